// Command ivshmem-server is a small stand-in for QEMU's
// contrib/ivshmem-server, which Debian does not ship, built on
// gemu/devices/ivshmem/server. It speaks the same protocol (version 0), so
// gemu's and QEMU's ivshmem-doorbell can both join it, and takes the
// contrib server's main flags. It always runs in the foreground.
//
//	go run ./cmd/ivshmem-server -S /tmp/ivshmem_socket -l 4M -n 1
//	gemu ... -chardev socket,path=/tmp/ivshmem_socket,id=ch0 \
//	    -device ivshmem-doorbell,chardev=ch0,vectors=1
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"gemu/devices/ivshmem/server"
	"gemu/qemuopt"
)

func main() {
	sock := flag.String("S", "/tmp/ivshmem_socket", "UNIX socket to listen on")
	name := flag.String("M", "ivshmem", "POSIX shared memory name (a file in /dev/shm)")
	dir := flag.String("m", "", "directory for the shared memory file instead of /dev/shm (e.g. hugetlbfs)")
	size := flag.String("l", "4M", "shared memory size (K, M, G suffixes; a power of two)")
	vectors := flag.Int("n", 1, "interrupt vectors per peer")
	flag.Bool("F", true, "foreground (always)")
	flag.Parse()
	if err := run(*sock, *name, *dir, *size, *vectors); err != nil {
		fmt.Fprintln(os.Stderr, "ivshmem-server:", err)
		os.Exit(1)
	}
}

func run(sock, name, dir, sizeArg string, vectors int) error {
	size, err := qemuopt.ParseSize(sizeArg, 'B')
	if err != nil {
		return err
	}
	if vectors < 1 || vectors > 1024 {
		return fmt.Errorf("-n %d: want 1..1024", vectors)
	}
	if dir == "" {
		dir = "/dev/shm"
	}
	path := filepath.Join(dir, name)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return fmt.Errorf("%s: %w", path, err)
	}
	os.Remove(sock) // a stale socket from an earlier run
	s, err := server.NewFD(sock, fd, vectors)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "ivshmem-server: %s, %d bytes of %s, %d vector(s)\n", sock, size, path, vectors)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	s.Close()
	os.Remove(sock)
	return nil
}
