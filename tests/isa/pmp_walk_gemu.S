/* pmp_walk_gemu: pmp_walk.S plus AMO, SC and LR through a page-table walk
 * that PMP denies: AMO and SC raise store/AMO access faults (7), LR a load
 * access fault (5) (privileged spec 3.7.1 and table 3.6).
 * qemu: skip QEMU 7.2 reports AMO faults as load faults (5) */
#define WALK_AMO 1
#include "pmp_walk.S"
