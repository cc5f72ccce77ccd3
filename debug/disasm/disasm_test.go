package disasm

import "testing"

// The expected lines are QEMU 7.2's -d in_asm output for the same
// encodings (boot ROM and guests/hello), and the privileged instructions
// riscv64asm lacks.
func TestLine(t *testing.T) {
	for _, c := range []struct {
		pc   uint64
		insn uint32
		want string
	}{
		{0x1000, 0x00000297, "0x0000000000001000:  00000297          auipc                   t0,0x0                  # 0x1000"},
		{0x1004, 0x02828613, "0x0000000000001004:  02828613          addi                    a2,t0,40"},
		{0x1008, 0xf1402573, "0x0000000000001008:  f1402573          csrr                    a0,mhartid"},
		{0x100c, 0x0202b583, "0x000000000000100c:  0202b583          ld                      a1,32(t0)"},
		{0x1014, 0x00028067, "0x0000000000001014:  00028067          jr                      t0"},
		{0x80000008, 0xed05, "0x0000000080000008:  ed05              bnez                    a0,56                   # 0x80000040"},
		{0x80000010, 0x30200073, "0x0000000080000010:  30200073          mret"},
		{0x80000010, 0x10200073, "0x0000000080000010:  10200073          sret"},
		{0x80000010, 0x10500073, "0x0000000080000010:  10500073          wfi"},
		{0x80000010, 0x12b00073, "0x0000000080000010:  12b00073          sfence.vma              zero,a1"},
		{0x80000010, 0x0080006f, "0x0000000080000010:  0080006f          j                       8                       # 0x80000018"},
		{0x80000020, 0xfe0798e3, "0x0000000080000020:  fe0798e3          bnez                    a5,-16                  # 0x80000010"},
		{0x80000020, 0x8082, "0x0000000080000020:  8082              ret"},
		{0x80000020, 0x0000, "0x0000000080000020:  0000              unimp"},
		{0x80000020, 0x22b50553, "0x0000000080000020:  22b50553          fsgnj.d                 fa0,fa0,fa1"},
	} {
		if got := Line(c.pc, c.insn); got != c.want {
			t.Errorf("Line(%#x, %#x):\n got %q\nwant %q", c.pc, c.insn, got, c.want)
		}
	}
}
