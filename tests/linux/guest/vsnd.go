package guest

import _ "embed"

// vsndScript is /etc/gemu/vsnd.sh, the steps of the vsnd scenario
// (virtio-sound on QEMU 10 and gemu, tests/linux/vsnd_test.go).
//
//go:embed vsnd.sh
var vsndScript []byte
