import { defineConfig } from 'vite';

// The bundle goes into internal/webui/dist/app, which cmd/api embeds (go:embed) and serves
// under /ui/. Everything is bundled: the page loads nothing from elsewhere.
export default defineConfig({
  base: '/ui/',
  build: {
    outDir: '../internal/webui/dist/app',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
    sourcemap: false,
  },
});
