// Command build assembles the Debian riscv64 Linux guest for the gemu tests
// (see package gemu/tests/linux/guest) and prints where it is:
//
//	go run ./tests/linux/build [-update] [-cache DIR]
//
// The output is shell-friendly: IMAGE=..., INITRD=..., KERNELRELEASE=...
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"gemu/tests/linux/guest"
)

func main() {
	update := flag.Bool("update", false, "re-fetch the Debian package lists")
	cache := flag.String("cache", guest.DefaultCacheDir(), "cache directory")
	wavs := flag.String("wavs", "", "also write the test WAVs into this directory")
	compare := flag.String("compare", "", "compare this emulator output WAV with -with instead of building")
	with := flag.String("with", "/wav/s16-48000.wav", "guest test file name for -compare")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if *compare != "" {
		b, err := os.ReadFile(*compare)
		if err != nil {
			log.Fatal(err)
		}
		got, err := guest.ParseWAV(b)
		if err != nil {
			log.Fatal(err)
		}
		w, err := guest.TestWAV(*with)
		if err != nil {
			log.Fatal(err)
		}
		want, _ := guest.Stereo16(w)
		m, err := guest.Compare(got, want)
		if err != nil {
			log.Fatal(err)
		}
		g, dev, _ := guest.Gain(got, want)
		fmt.Printf("%+v frames=%d rate=%d exact=%v gain=%.5f,%.5f maxdev=%d\n", m, got.Frames(), got.Rate, m.Exact(), g[0], g[1], dev)
		if !m.Exact() {
			os.Exit(1)
		}
		return
	}
	g, err := guest.Build(context.Background(), guest.Options{CacheDir: *cache, Update: *update, Log: log.Printf})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("IMAGE=%s\nINITRD=%s\nKERNELRELEASE=%s\nVERSION=%s\n", g.Image, g.Initrd, g.KernelRelease, g.Version)
	if *wavs != "" {
		for _, f := range guest.TestFiles {
			w := guest.Generate(f.Format, f.Frames)
			p := *wavs + f.Name[len("/wav"):]
			if err := os.WriteFile(p, w.Encode(), 0o644); err != nil {
				log.Fatal(err)
			}
		}
	}
}
