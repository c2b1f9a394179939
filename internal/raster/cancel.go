package raster

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <string.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <cpl_conv.h>
#include <cpl_error.h>

// offsiteCall is one cancellable GDAL call: the flag its progress callback
// reads, and the errors GDAL reported on the calling thread.
typedef struct {
	int canceled;
	char *errs;   // records "<category> <message>\x1e"
	size_t len;
} offsiteCall;

static void offsiteCancel(offsiteCall *c) { __atomic_store_n(&c->canceled, 1, __ATOMIC_SEQ_CST); }
static int offsiteCanceled(offsiteCall *c) { return __atomic_load_n(&c->canceled, __ATOMIC_SEQ_CST); }

static int offsiteProgress(double complete, const char *msg, void *arg) {
	(void)complete; (void)msg;
	return !__atomic_load_n(&((offsiteCall *)arg)->canceled, __ATOMIC_SEQ_CST);
}

static void offsiteErrors(CPLErr e, CPLErrorNum n, const char *msg) {
	(void)n;
	offsiteCall *c = (offsiteCall *)CPLGetErrorHandlerUserData();
	size_t m = strlen(msg);
	char *grown = realloc(c->errs, c->len + m + 4);
	if (grown == NULL) {
		return;
	}
	c->errs = grown;
	c->errs[c->len++] = '0' + (int)e;
	c->errs[c->len++] = ' ';
	memcpy(c->errs + c->len, msg, m);
	c->len += m;
	c->errs[c->len++] = '\x1e';
	c->errs[c->len] = 0;
}

// offsiteWrap installs the call's error handler and configuration options on
// this thread; offsiteUnwrap removes them.
static void offsiteWrap(offsiteCall *c, char **config) {
	CPLPushErrorHandlerEx(offsiteErrors, c);
	for (char **o = config; o && *o; o++) {
		char *eq = strchr(*o, '=');
		if (eq) {
			*eq = 0;
			CPLSetThreadLocalConfigOption(*o, eq + 1);
			*eq = '=';
		}
	}
}

static void offsiteUnwrap(char **config) {
	CPLPopErrorHandler();
	for (char **o = config; o && *o; o++) {
		char *eq = strchr(*o, '=');
		if (eq) {
			*eq = 0;
			CPLSetThreadLocalConfigOption(*o, NULL);
			*eq = '=';
		}
	}
}

static GDALDatasetH offsiteTranslate(offsiteCall *c, char **config, const char *dst, GDALDatasetH src, char **switches) {
	offsiteWrap(c, config);
	GDALDatasetH out = NULL;
	GDALTranslateOptions *o = GDALTranslateOptionsNew(switches, NULL);
	if (o != NULL) {
		GDALTranslateOptionsSetProgress(o, offsiteProgress, c);
		int usage = 0;
		out = GDALTranslate(dst, src, o, &usage);
		GDALTranslateOptionsFree(o);
	}
	offsiteUnwrap(config);
	return out;
}

static GDALDatasetH offsiteWarp(offsiteCall *c, char **config, const char *dst, GDALDatasetH src, char **switches) {
	offsiteWrap(c, config);
	GDALDatasetH out = NULL;
	GDALWarpAppOptions *o = GDALWarpAppOptionsNew(switches, NULL);
	if (o != NULL) {
		GDALWarpAppOptionsSetProgress(o, offsiteProgress, c);
		int usage = 0;
		out = GDALWarp(dst, NULL, 1, &src, o, &usage);
		GDALWarpAppOptionsFree(o);
	}
	offsiteUnwrap(config);
	return out;
}

static void offsiteFree(offsiteCall *c) {
	free(c->errs);
	free(c);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/airbusgeo/godal"
)

// godal v0.0.18 takes no progress callback, so a Translate or Warp it runs
// cannot be stopped: a task's deadline passed while GDAL went on converting
// for a minute. translate and warp below call GDAL's GDALTranslate and
// GDALWarp themselves, on the dataset handle godal holds, with a progress
// callback that returns FALSE once the call's context is done: GDAL then
// stops at its next progress report (every few blocks) and fails with "User
// terminated", which becomes ctx's error.

// handleLayout reports whether godal.Dataset is what this file relies on: a
// struct holding only the C dataset handle.
var handleLayout = func() error {
	t := reflect.TypeOf(godal.Dataset{})
	if t.NumField() == 1 && t.Field(0).Type.Kind() == reflect.Struct {
		inner := t.Field(0).Type
		if inner.NumField() == 1 && inner.Field(0).Type.Kind() == reflect.UnsafePointer &&
			t.Size() == unsafe.Sizeof(uintptr(0)) {
			return nil
		}
	}
	return fmt.Errorf("raster: godal.Dataset is no longer a bare GDAL handle (%v): cancellable calls need updating", t)
}()

// handle returns the GDAL handle of ds.
func handle(ds *godal.Dataset) C.GDALDatasetH {
	return *(*C.GDALDatasetH)(unsafe.Pointer(ds))
}

// wrap returns a godal.Dataset owning h.
func wrap(h C.GDALDatasetH) *godal.Dataset {
	ds := new(godal.Dataset)
	*(*C.GDALDatasetH)(unsafe.Pointer(ds)) = h
	return ds
}

// cancellable runs call with a progress callback that stops it once ctx is
// done. GDAL's failures and warnings pass through onErr (gdalErrors, as with
// errLogger, or a scene's warnLog); a call stopped by ctx returns ctx's error.
func cancellable(ctx context.Context, cfg []string, onErr godal.ErrorHandler, call func(c *C.offsiteCall, config **C.char) C.GDALDatasetH) (*godal.Dataset, error) {
	if handleLayout != nil {
		return nil, handleLayout
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := (*C.offsiteCall)(C.calloc(1, C.sizeof_offsiteCall))
	defer C.offsiteFree(c)
	config, free := cStrings(cfg)
	defer free()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			C.offsiteCancel(c)
		case <-done:
		}
	}()
	h := call(c, config)
	close(done)
	<-stopped
	var errs []error
	if c.errs != nil {
		for _, rec := range strings.Split(C.GoString(c.errs), "\x1e") {
			if len(rec) < 2 {
				continue
			}
			if err := onErr(godal.ErrorCategory(rec[0]-'0'), 0, rec[2:]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if C.offsiteCanceled(c) != 0 {
		errs = []error{context.Cause(ctx)}
	}
	if h == nil && len(errs) == 0 {
		errs = append(errs, errors.New("unknown error"))
	}
	if len(errs) > 0 {
		if h != nil {
			if err := wrap(h).Close(errLogger); err != nil {
				errs = append(errs, err)
			}
		}
		return nil, errors.Join(errs...)
	}
	return wrap(h), nil
}

// translate is ds.Translate(dst, switches, godal.ConfigOption(cfg...),
// godal.ErrLogger(onErr)), stopped when ctx is done.
func translate(ctx context.Context, ds *godal.Dataset, dst string, switches, cfg []string, onErr godal.ErrorHandler) (*godal.Dataset, error) {
	cdst := C.CString(dst)
	defer C.free(unsafe.Pointer(cdst))
	sw, free := cStrings(switches)
	defer free()
	return cancellable(ctx, cfg, onErr, func(c *C.offsiteCall, config **C.char) C.GDALDatasetH {
		return C.offsiteTranslate(c, config, cdst, handle(ds), sw)
	})
}

// warp is godal.Warp(dst, []*godal.Dataset{ds}, switches,
// godal.ConfigOption(cfg...), godal.ErrLogger(onErr)), stopped when ctx is done.
func warp(ctx context.Context, ds *godal.Dataset, dst string, switches, cfg []string, onErr godal.ErrorHandler) (*godal.Dataset, error) {
	cdst := C.CString(dst)
	defer C.free(unsafe.Pointer(cdst))
	sw, free := cStrings(switches)
	defer free()
	return cancellable(ctx, cfg, onErr, func(c *C.offsiteCall, config **C.char) C.GDALDatasetH {
		return C.offsiteWarp(c, config, cdst, handle(ds), sw)
	})
}

// cStrings returns ss as a NULL-terminated C array and a function freeing it.
func cStrings(ss []string) (**C.char, func()) {
	p := (**C.char)(C.calloc(C.size_t(len(ss)+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	arr := unsafe.Slice(p, len(ss)+1)
	for i, s := range ss {
		arr[i] = C.CString(s)
	}
	return p, func() {
		for _, p := range arr[:len(ss)] {
			C.free(unsafe.Pointer(p))
		}
		C.free(unsafe.Pointer(p))
	}
}
