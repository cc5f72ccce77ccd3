package ivshmem

import (
	"path/filepath"
	"strings"
	"testing"

	"gemu/machine"
	"gemu/tests/rig"
)

// TestOptions builds machines from QEMU-style arguments: the accepted
// spellings work and every mistake is a one-line error naming it.
func TestOptions(t *testing.T) {
	dir := t.TempDir()
	shm := filepath.Join(dir, "shm")
	file := "memory-backend-file,id=hm,size=1M,share=on,mem-path=" + shm
	tests := []struct {
		name     string
		objects  []string
		chardevs []string
		devices  []string
		audio    []string
		err      string // "" = must succeed
	}{
		{"plain", []string{file}, nil, []string{"ivshmem-plain,memdev=hm,master=on,addr=5"}, nil, ""},
		{"ram backend", []string{"memory-backend-ram,id=r,size=64K"}, nil, []string{"ivshmem-plain,memdev=r"}, nil, ""},
		{"memfd backend", []string{"memory-backend-memfd,id=r,size=2M,share=on"}, nil, []string{"ivshmem-plain,memdev=r"}, nil, ""},
		{"qom-type spelling", []string{"qom-type=memory-backend-ram,id=r,size=64K"}, nil, []string{"ivshmem-plain,memdev=r"}, nil, ""},
		{"other objects rejected", []string{"rng-random,id=rng0,filename=/dev/urandom", file}, nil, []string{"ivshmem-plain,memdev=hm"}, nil, "unsupported object type"},
		{"with audio", []string{file}, nil, []string{"ivshmem-plain,memdev=hm,audiodev=a"}, []string{"none,id=a"}, ""},
		{"scream ring", []string{file}, nil, []string{"ivshmem-plain,memdev=hm,audiodev=a,ring=scream"}, []string{"none,id=a"}, ""},
		{"gemu ring", []string{file}, nil, []string{"ivshmem-plain,memdev=hm,audiodev=a,ring=gemu"}, []string{"none,id=a"}, ""},
		{"bad ring", []string{file}, nil, []string{"ivshmem-plain,memdev=hm,audiodev=a,ring=hdmi"}, []string{"none,id=a"}, "ring=hdmi"},
		{"ring without audiodev", []string{file}, nil, []string{"ivshmem-plain,memdev=hm,ring=scream"}, nil, "ring= needs audiodev="},
		{"no memdev", []string{file}, nil, []string{"ivshmem-plain"}, nil, "missing memdev="},
		{"unknown memdev", []string{file}, nil, []string{"ivshmem-plain,memdev=x"}, nil, `no -object memory-backend-* with id "x"`},
		{"memdev twice", []string{file}, nil, []string{"ivshmem-plain,memdev=hm", "ivshmem-plain,memdev=hm"}, nil, "already in use"},
		{"size not a power of two", []string{"memory-backend-ram,id=r,size=3M"}, nil, nil, nil, "power of two"},
		{"size too small", []string{"memory-backend-ram,id=r,size=1K"}, nil, nil, nil, "power of two"},
		{"bad size", []string{"memory-backend-ram,id=r,size=lots"}, nil, nil, nil, `size "lots"`},
		{"no size", []string{"memory-backend-ram,id=r"}, nil, nil, nil, "missing size="},
		{"no id", []string{"memory-backend-ram,size=1M"}, nil, nil, nil, "missing id="},
		{"no mem-path", []string{"memory-backend-file,id=f,size=1M"}, nil, nil, nil, "missing mem-path="},
		{"mem-path on ram", []string{"memory-backend-ram,id=f,size=1M,mem-path=/x"}, nil, nil, nil, "mem-path is for memory-backend-file"},
		{"bad share", []string{"memory-backend-ram,id=f,size=1M,share=maybe"}, nil, nil, nil, "share=maybe"},
		{"unknown option", []string{"memory-backend-ram,id=f,size=1M,colour=red"}, nil, nil, nil, `unknown parameter "colour"`},
		{"unknown backend", []string{"memory-backend-epc,id=f,size=1M"}, nil, nil, nil, "unsupported memory backend"},
		{"duplicate id", []string{"memory-backend-ram,id=f,size=1M", "memory-backend-ram,id=f,size=1M"}, nil, nil, nil, `duplicate id "f"`},
		{"mem-path unusable", []string{"memory-backend-file,id=f,size=1M,share=on,mem-path=" + dir}, nil, []string{"ivshmem-plain,memdev=f"}, nil, "is a directory"},
		{"plain: unknown option", []string{file}, nil, []string{"ivshmem-plain,memdev=hm,vectors=2"}, nil, `unknown parameter "vectors"`},
		{"plain: bad master", []string{file}, nil, []string{"ivshmem-plain,memdev=hm,master=sure"}, nil, "master=sure"},
		{"plain: unknown audiodev", []string{file}, nil, []string{"ivshmem-plain,memdev=hm,audiodev=zz"}, nil, `no -audiodev with id "zz"`},
		{"doorbell: no chardev", nil, nil, []string{"ivshmem-doorbell"}, nil, "missing chardev="},
		{"doorbell: unknown chardev", nil, []string{"socket,id=c1,path=/nonexistent"}, []string{"ivshmem-doorbell,chardev=c0"}, nil, `no -chardev with id "c0"`},
		{"doorbell: not a socket", nil, []string{"stdio,id=c0"}, []string{"ivshmem-doorbell,chardev=c0"}, nil, "needs a socket"},
		{"doorbell: TCP socket", nil, []string{"socket,id=c0,host=localhost,port=4000"}, []string{"ivshmem-doorbell,chardev=c0"}, nil, "path="},
		{"doorbell: server=on", nil, []string{"socket,id=c0,path=/tmp/x,server=on"}, []string{"ivshmem-doorbell,chardev=c0"}, nil, "server=on"},
		{"doorbell: vectors=0", nil, []string{"socket,id=c0,path=/tmp/x"}, []string{"ivshmem-doorbell,chardev=c0,vectors=0"}, nil, "vectors=0"},
		{"doorbell: vectors=99", nil, []string{"socket,id=c0,path=/tmp/x"}, []string{"ivshmem-doorbell,chardev=c0,vectors=99"}, nil, "vectors=99"},
		{"doorbell: bad intx", nil, []string{"socket,id=c0,path=/tmp/x"}, []string{"ivshmem-doorbell,chardev=c0,intx=2"}, nil, "intx=2"},
		{"doorbell: bad ioeventfd", nil, []string{"socket,id=c0,path=/tmp/x"}, []string{"ivshmem-doorbell,chardev=c0,ioeventfd=x"}, nil, "ioeventfd=x"},
		{"doorbell: no server", nil, []string{"socket,id=c0,path=" + filepath.Join(dir, "nobody")}, []string{"ivshmem-doorbell,chardev=c0"}, nil, "chardev socket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := machine.New(machine.Config{
				BIOS: "none", Kernel: guest(t),
				Objects: rig.Opts(t, "-object", tc.objects...), Chardevs: rig.Opts(t, "-chardev", tc.chardevs...),
				Devices: rig.Devices(t, tc.devices...), Audiodevs: rig.Audiodevs(t, tc.audio...),
				Deterministic: true,
			})
			if tc.err == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				m.Stop()
				if _, err := m.Run(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				m.Stop()
				m.Run()
				t.Fatalf("New succeeded, want an error containing %q", tc.err)
			}
			if !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tc.err)
			}
		})
	}
}
