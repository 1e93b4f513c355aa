//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package conformance

import "syscall"

// readOnly returns a copy of p in pages the process may read but not
// write, and a function that unmaps them; a write into it faults, which
// debug.SetPanicOnFault turns into a panic of the writing goroutine. ok
// is false where no such memory can be had.
func readOnly(p []byte) (ro []byte, release func(), ok bool) {
	page := syscall.Getpagesize()
	n := max(1, (len(p)+page-1)/page) * page
	mem, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, false
	}
	copy(mem, p)
	if err := syscall.Mprotect(mem, syscall.PROT_READ); err != nil {
		syscall.Munmap(mem)
		return nil, nil, false
	}
	return mem[:len(p):len(p)], func() { syscall.Munmap(mem) }, true
}
