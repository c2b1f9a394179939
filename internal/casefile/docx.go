package casefile

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/gomutex/godocx"
	"github.com/gomutex/godocx/common/units"
	"github.com/gomutex/godocx/docx"
	"github.com/gomutex/godocx/wml/ctypes"
	"github.com/gomutex/godocx/wml/stypes"
)

// eastAsiaFont is the font Word uses for the Chinese text of the DOCX (named, not embedded:
// 宋体 is on every Chinese Windows; other systems substitute).
const eastAsiaFont = "SimSun"

// textWidthInch is the text width of the template's page (A4/Letter with its margins).
const textWidthInch = 6.0

// DOCX writes the case file as a Word document (godocx). Images go through a temporary
// directory, because godocx adds pictures from files.
func (r *Renderer) DOCX(w io.Writer, c *Case) error {
	doc, err := godocx.NewDocument()
	if err != nil {
		return fmt.Errorf("casefile: docx: %w", err)
	}
	tmp, err := os.MkdirTemp("", "casefile-docx-")
	if err != nil {
		return fmt.Errorf("casefile: docx: %w", err)
	}
	defer os.RemoveAll(tmp)
	imgN := 0
	for _, b := range c.blocks() {
		switch b.kind {
		case bHeading:
			p, err := doc.AddHeading(b.text, uint(b.level))
			if err != nil {
				return fmt.Errorf("casefile: docx: %w", err)
			}
			eastAsia(p)
		case bPara:
			p := doc.AddParagraph("")
			run := p.AddText(b.text)
			if b.small {
				run.Size(8)
			}
			eastAsia(p)
		case bTable:
			t := doc.AddTable()
			t.Style("TableGrid")
			rows := b.rows
			if b.header != nil {
				rows = append([][]string{b.header}, rows...)
			}
			for i, row := range rows {
				tr := t.AddRow()
				for j, cell := range row {
					tc := tr.AddCell()
					tc.Width(int(b.widths[j]*5000), stypes.TableWidthPct)
					if (b.header != nil && i == 0) || (b.header == nil && j == 0) {
						tc.BackgroundColor("E8ECF2")
					}
					p := tc.AddParagraph("")
					p.AddText(cell).Size(8)
					eastAsia(p)
				}
			}
			doc.AddParagraph("")
		case bImages:
			if err := docxImages(doc, tmp, b.images, &imgN); err != nil {
				return err
			}
		}
	}
	if err := doc.Write(w); err != nil {
		return fmt.Errorf("casefile: docx: %w", err)
	}
	return nil
}

// eastAsia names the Chinese font on every run of p.
func eastAsia(p *docx.Paragraph) {
	for _, ch := range p.GetCT().Children {
		if ch.Run == nil {
			continue
		}
		if ch.Run.Property == nil {
			ch.Run.Property = &ctypes.RunProperty{}
		}
		if ch.Run.Property.Fonts == nil {
			ch.Run.Property.Fonts = &ctypes.RunFonts{}
		}
		ch.Run.Property.Fonts.EastAsia = eastAsiaFont
	}
}

// docxImages adds figures side by side in a borderless table, captions below.
func docxImages(doc *docx.RootDoc, tmp string, figs []figure, n *int) error {
	t := doc.AddTable()
	pics := t.AddRow()
	caps := t.AddRow()
	for _, f := range figs {
		cfg, err := png.DecodeConfig(bytes.NewReader(f.png))
		if err != nil {
			return fmt.Errorf("casefile: docx image: %w", err)
		}
		*n++
		path := filepath.Join(tmp, fmt.Sprintf("image%d.png", *n))
		if err := os.WriteFile(path, f.png, 0o600); err != nil {
			return fmt.Errorf("casefile: docx: %w", err)
		}
		wi := f.width * textWidthInch
		hi := wi * float64(cfg.Height) / float64(cfg.Width)
		if hi > 6 {
			wi, hi = wi*6/hi, 6
		}
		if _, err := pics.AddCell().AddEmptyPara().AddPicture(path, units.Inch(wi), units.Inch(hi)); err != nil {
			return fmt.Errorf("casefile: docx image: %w", err)
		}
		p := caps.AddCell().AddParagraph("")
		p.AddText(f.caption).Size(8)
		eastAsia(p)
	}
	doc.AddParagraph("")
	return nil
}
