package machine

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// rom is the read-only MROM at 0x1000 holding the reset vector.
type rom struct{ data [MROMSize]byte }

func (r *rom) Read(off uint64, size int) uint64 {
	var v uint64
	for i := size - 1; i >= 0; i-- {
		if off+uint64(i) < MROMSize {
			v = v<<8 | uint64(r.data[off+uint64(i)])
		} else {
			v <<= 8
		}
	}
	return v
}

func (r *rom) Write(off uint64, size int, val uint64) {} // ROM: writes ignored

// fw_dynamic information record (OpenSBI docs/firmware/fw_dynamic.md,
// include/sbi/fw_dynamic.h), version 2: six XLEN words.
const (
	fwDynMagic    = 0x4942534f // "OSBI"
	fwDynVersion  = 2
	fwDynNextMode = 1 // S mode
	romInfoOff    = 0x28
	romStartOff   = 0x18
	romFDTOff     = 0x20
)

// Instruction encoders (RISC-V unprivileged spec, chapter 2 base formats).
func iType(op, funct3, rd, rs1 uint32, imm int32) uint32 {
	return uint32(imm)<<20 | rs1<<15 | funct3<<12 | rd<<7 | op
}

func uType(op, rd uint32, imm uint32) uint32 { return imm&0xfffff000 | rd<<7 | op }

const (
	regT0 = 5
	regA0 = 10
	regA1 = 11
	regA2 = 12

	csrMhartid = 0xf14
)

// bootROM returns the reset vector: the same layout as QEMU's (a2 at
// +0x28), so firmware that expects QEMU's ROM finds the same values.
//
//	0x00 auipc t0, 0
//	0x04 addi  a2, t0, 0x28     a2 = &fw_dynamic_info
//	0x08 csrr  a0, mhartid      a0 = hart ID
//	0x0c ld    a1, 0x20(t0)     a1 = FDT address
//	0x10 ld    t0, 0x18(t0)     t0 = entry
//	0x14 jr    t0
//	0x18 entry, 0x20 FDT address, 0x28 fw_dynamic_info
func bootROM(entry, fdtAddr, nextAddr uint64) []byte {
	code := []uint32{
		uType(0x17, regT0, 0),                     // auipc
		iType(0x13, 0, regA2, regT0, romInfoOff),  // addi
		iType(0x73, 2, regA0, 0, csrMhartid),      // csrrs a0, mhartid, x0
		iType(0x03, 3, regA1, regT0, romFDTOff),   // ld
		iType(0x03, 3, regT0, regT0, romStartOff), // ld
		iType(0x67, 0, 0, regT0, 0),               // jalr x0, 0(t0)
	}
	b := make([]byte, 0, 0x58)
	for _, c := range code {
		b = binary.LittleEndian.AppendUint32(b, c)
	}
	for _, v := range []uint64{entry, fdtAddr,
		fwDynMagic, fwDynVersion, nextAddr, fwDynNextMode, 0 /* options */, 0 /* boot hart */} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// loaded describes one image placed in RAM.
type loaded struct {
	entry  uint64
	end    uint64 // first byte after the image
	tohost uint64
	isELF  bool
}

// readImage reads a host file to load into guest RAM. What cannot fit in
// RAM cannot be loaded, so at most limit (the RAM size) bytes are read: a
// pipe or a huge file fails after limit+1 bytes instead of exhausting the
// host. Directories and devices are refused before reading (QEMU loads
// /dev/zero as an empty image, since its size reads as 0; gemu says what
// is wrong instead).
func readImage(what, path string, limit uint64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("machine: %s: %w", what, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("machine: %s: %w", what, err)
	}
	mode := st.Mode()
	switch {
	case mode.IsDir():
		return nil, fmt.Errorf("machine: %s %s is a directory", what, path)
	case mode&os.ModeDevice != 0:
		return nil, fmt.Errorf("machine: %s %s is a device, not an image file", what, path)
	case mode.IsRegular() && uint64(st.Size()) > limit:
		return nil, fmt.Errorf("machine: %s %s (%d bytes) is larger than RAM (%d bytes; try a larger -m)", what, path, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("machine: %s: %w", what, err)
	}
	if uint64(len(b)) > limit {
		return nil, fmt.Errorf("machine: %s %s is larger than RAM (more than %d bytes read; try a larger -m)", what, path, limit)
	}
	return b, nil
}

// place records an image and copies it into RAM, failing if it does not
// fit or overlaps one placed before: the firmware, a kernel segment, the
// initrd, the device tree (QEMU's rom_check_and_register_reset,
// hw/core/loader.c, refuses the same with "Some ROM regions are
// overlapping"). The boot ROM is outside RAM, where no image may go.
func (m *Machine) place(what string, addr uint64, data []byte) error {
	end := addr + uint64(len(data))
	if !m.Bus.InRAM(addr, uint64(len(data))) {
		return fmt.Errorf("machine: %s [%#x,%#x) does not fit in RAM [%#x,%#x) (try a larger -m)",
			what, addr, end, uint64(RAMBase), RAMBase+m.Config.RAMSize)
	}
	for _, im := range m.images {
		if len(data) > 0 && len(im.data) > 0 && addr < im.addr+uint64(len(im.data)) && im.addr < end {
			return fmt.Errorf("machine: ROM regions are overlapping: %s (addresses 0x%016x - 0x%016x) and %s (addresses 0x%016x - 0x%016x)",
				im.name, im.addr, im.addr+uint64(len(im.data)), what, addr, end)
		}
	}
	m.images = append(m.images, image{addr, data, what})
	m.tracef("boot", "load %s at [%#x,%#x)", what, addr, end)
	return nil
}

// loadImage loads an ELF at its physical addresses, or a raw binary at
// rawAddr.
func (m *Machine) loadImage(what string, data []byte, rawAddr uint64) (loaded, error) {
	if bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return m.loadELF(what, data)
	}
	if err := m.place(what, rawAddr, data); err != nil {
		return loaded{}, err
	}
	l := loaded{entry: rawAddr, end: rawAddr + uint64(len(data))}
	// A Linux RISC-V Image declares its in-memory size, BSS included
	// (Documentation/arch/riscv/boot-image-header.rst): keep the initrd
	// clear of it.
	if len(data) >= 0x40 && (string(data[0x30:0x38]) == "RISCV\x00\x00\x00" || string(data[0x38:0x3c]) == "RSC\x05") {
		if sz := binary.LittleEndian.Uint64(data[0x10:]); sz > uint64(len(data)) && sz <= m.Config.RAMSize {
			l.end = rawAddr + sz
		}
	}
	return l, nil
}

func (m *Machine) loadELF(what string, data []byte) (l loaded, err error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return l, fmt.Errorf("machine: %s: %w", what, err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_RISCV {
		return l, fmt.Errorf("machine: %s: not a 64-bit RISC-V ELF (%v, %v)", what, f.Class, f.Machine)
	}
	l.isELF = true
	l.entry = f.Entry
	n := 0
	var total uint64
	for i, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		total += p.Memsz
		if p.Filesz > p.Memsz || p.Memsz > m.Config.RAMSize || total > m.Config.RAMSize {
			return l, fmt.Errorf("machine: %s: segment %d has bad sizes (filesz %#x, memsz %#x)", what, i, p.Filesz, p.Memsz)
		}
		seg := make([]byte, p.Memsz)
		if _, err := io.ReadFull(p.Open(), seg[:p.Filesz]); err != nil {
			return l, fmt.Errorf("machine: %s: segment %d: %w", what, i, err)
		}
		if err := m.place(fmt.Sprintf("%s segment %d", what, i), p.Paddr, seg); err != nil {
			return l, err
		}
		l.end = max(l.end, p.Paddr+p.Memsz)
		n++
	}
	if n == 0 {
		return l, fmt.Errorf("machine: %s: ELF has no loadable segment", what)
	}
	// The hart starts with paging off, so a virtual entry point (a Linux
	// vmlinux links at 0xffffffff80000000) is translated through the
	// segment holding it to its physical address, as newer QEMU does.
	if !m.Bus.InRAM(l.entry, 4) {
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && l.entry-p.Vaddr < p.Memsz {
				l.entry = p.Paddr + (l.entry - p.Vaddr)
				break
			}
		}
	}
	syms, err := f.Symbols()
	if err == nil {
		for _, s := range syms {
			if s.Name == "tohost" {
				l.tohost = s.Value
			}
		}
	}
	return l, nil
}

// load places firmware, kernel and initrd as QEMU's virt does
// (hw/riscv/boot.c), builds the device tree and writes the boot ROM.
func (m *Machine) load() error {
	cfg := m.Config
	kernel := cfg.KernelData
	if kernel == nil && cfg.Kernel != "" {
		var err error
		if kernel, err = readImage("kernel", cfg.Kernel, cfg.RAMSize); err != nil {
			return err
		}
	}
	kname := "kernel " + cfg.Kernel

	var fwEnd uint64 = RAMBase // where the kernel goes when firmware is absent
	var fw loaded
	haveFW := false
	switch cfg.BIOS {
	case "none":
		if kernel == nil {
			return errors.New("machine: -bios none needs -kernel FILE (nothing to run)")
		}
	default:
		path := cfg.BIOS
		if path == "" || path == "default" {
			path = DefaultBIOS
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("machine: no firmware: %s not found; install it (apt-get install opensbi) or give -bios FILE, or run a bare-metal ELF with -bios none -kernel FILE", path)
			}
		}
		data, err := readImage("firmware", path, cfg.RAMSize)
		if err != nil {
			return err
		}
		if fw, err = m.loadImage("firmware "+path, data, RAMBase); err != nil {
			return err
		}
		haveFW = true
		fwEnd = fw.end
	}

	// The kernel starts at the first 2 MiB boundary after the firmware
	// (QEMU riscv_calc_kernel_start_addr for RV64).
	kernelStart := alignUp(fwEnd, 2<<20)
	var k loaded
	if kernel != nil {
		var err error
		if k, err = m.loadImage(kname, kernel, kernelStart); err != nil {
			return err
		}
		kernelStart = k.entry
	}
	m.tohost = k.tohost
	if m.tohost == 0 {
		m.tohost = fw.tohost
	}
	if m.tohost != 0 && !m.Bus.InRAM(m.tohost, 8) {
		m.tohost = 0
	}

	// Build the tree once to know its size; its size does not depend on
	// the initrd address, so the final tree fits where this one would.
	var initrd []byte
	if cfg.Initrd != "" {
		var err error
		if initrd, err = readImage("initrd", cfg.Initrd, cfg.RAMSize); err != nil {
			return err
		}
	}
	seed := m.seed()
	hasInitrd := initrd != nil
	dtb, err := m.buildDTB(seed, hasInitrd, 0, 0)
	if err != nil {
		return err
	}
	// QEMU riscv_compute_fdt_addr: at the end of RAM (below 3 GiB),
	// aligned down to 2 MiB.
	top := RAMBase + cfg.RAMSize
	if top > 3<<30 {
		top = 3 << 30
	}
	if uint64(len(dtb)) > top-RAMBase {
		return errors.New("machine: device tree does not fit in RAM")
	}
	m.dtbAddr = alignDown(top-uint64(len(dtb)), 2<<20)

	var initrdStart, initrdEnd uint64
	if hasInitrd {
		// QEMU riscv_load_initrd: kernel + min(RAM/2, 128 MiB), so an
		// uncompressing kernel does not overwrite it; if it does not fit
		// there, as high as possible below the device tree.
		size := uint64(len(initrd))
		initrdStart = kernelStart + min(cfg.RAMSize/2, 128<<20)
		if initrdStart+size > m.dtbAddr {
			if size > m.dtbAddr-RAMBase {
				return fmt.Errorf("machine: initrd %s (%d bytes) does not fit in RAM (try a larger -m)", cfg.Initrd, size)
			}
			initrdStart = alignDown(m.dtbAddr-size, 4096)
		}
		kEnd := max(k.end, fw.end)
		if initrdStart < kEnd {
			return fmt.Errorf("machine: initrd %s (%d bytes) overlaps the kernel (try a larger -m)", cfg.Initrd, size)
		}
		initrdEnd = initrdStart + size
		if err := m.place("initrd "+cfg.Initrd, initrdStart, initrd); err != nil {
			return err
		}
	}
	if dtb, err = m.buildDTB(seed, hasInitrd, initrdStart, initrdEnd); err != nil {
		return err
	}
	if err := m.place("device tree", m.dtbAddr, dtb); err != nil {
		return err
	}
	m.dtb = dtb

	m.entry = kernelStart
	if haveFW {
		m.entry = fw.entry
	}
	copy(m.rom.data[:], bootROM(m.entry, m.dtbAddr, kernelStart))
	m.tracef("boot", "boot ROM: entry %#x, FDT %#x, next_addr %#x, tohost %#x", m.entry, m.dtbAddr, kernelStart, m.tohost)
	return nil
}

func alignUp(v, a uint64) uint64   { return (v + a - 1) &^ (a - 1) }
func alignDown(v, a uint64) uint64 { return v &^ (a - 1) }
