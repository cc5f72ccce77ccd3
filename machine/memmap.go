package machine

// The memory map and interrupt numbers of QEMU's `-machine virt` for RV64
// (hw/riscv/virt.c virt_memmap and include/hw/riscv/virt.h, QEMU 7.2-9.x;
// docs/board.md explains it). Guests
// hard-code many of these, so they must not move.
const (
	MROMBase = 0x0000_1000 // boot ROM: reset vector, fw_dynamic info
	MROMSize = 0xf000

	TestBase = 0x0010_0000 // sifive,test finisher (syscon)
	TestSize = 0x1000

	RTCBase = 0x0010_1000 // goldfish RTC
	RTCSize = 0x1000

	CLINTBase = 0x0200_0000
	CLINTSize = 0x1_0000

	PCIePIOBase = 0x0300_0000 // PCI I/O port P is at PCIePIOBase + P
	PCIePIOSize = 0x1_0000

	PlatformBusBase = 0x0400_0000
	PlatformBusSize = 0x200_0000

	PLICBase = 0x0c00_0000
	PLICSize = 0x60_0000 // 0x20_0000 + 0x1000 per context, sized as QEMU does

	UARTBase = 0x1000_0000 // ns16550a
	UARTSize = 0x100

	VirtioBase   = 0x1000_1000 // virtio-mmio slot n at VirtioBase + n*VirtioStride
	VirtioStride = 0x1000
	VirtioCount  = 8

	FwCfgBase = 0x1010_0000
	FlashBase = 0x2000_0000

	PCIeECAMBase = 0x3000_0000 // 256 buses x 1 MiB
	PCIeECAMSize = 0x1000_0000

	PCIeMMIOBase = 0x4000_0000 // 32-bit non-prefetchable window
	PCIeMMIOSize = 0x4000_0000

	// The 64-bit PCIe window sits above RAM, aligned to its size; for any
	// RAM size below 16 GiB - 2 GiB that is 16 GiB (QEMU's
	// virt_high_pcie_memmap for RV64).
	PCIeHighMMIOBase = 0x4_0000_0000
	PCIeHighMMIOSize = 0x4_0000_0000

	RAMBase = 0x8000_0000
)

// PLIC interrupt sources.
const (
	VirtioIRQ   = 1 // virtio-mmio slot n uses VirtioIRQ + n
	UARTIRQ     = 10
	RTCIRQ      = 11
	PCIeIRQBase = 32 // INTA..INTD of the PCIe host: 32..35 (swizzled by slot)
	PlatformIRQ = 64 // platform bus: 64..95
)

// PhandleFree is the first device-tree phandle the board does not use
// (its own follow QEMU's numbering, which depends on the hart count: see
// Machine.PhandlePLIC); code adding nodes takes new ones from
// Machine.NewPhandle.
const PhandleFree = 2*MaxHarts + 3

// PLICSources is the riscv,ndev QEMU 7.2 declares for its PLIC
// (VIRT_IRQCHIP_NUM_SOURCES): 96, source 0 (no interrupt) included.
const PLICSources = 96

// Other board constants.
const (
	UARTClockHz = 3686400 // the ns16550a input clock QEMU declares
	TimebaseHz  = 10_000_000
)
