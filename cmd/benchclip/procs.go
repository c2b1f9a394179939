package main

import "runtime"

// runtimeProcs reports GOMAXPROCS.
func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
