/* vsnd.h: the reusable part of the virtio-sound guest driver (virtiosnd.c
 * is its test driver, ../demo/demo.c its music player): virtio-mmio probe
 * and initialisation, split virtqueues of QN entries, polled control
 * requests. One device per program (the global dev). Facts: VirtIO 1.2
 * sections 2.7 (split virtqueues), 3.1.1 (initialisation), 4.2.2 (MMIO
 * registers), 5.14 (sound device).
 *
 * The includer defines, before including it,
 *     static void fail(const char *why, uint64_t val);
 * which must not return (a timeout, NEEDS_RESET, a refused request).
 *
 * Transports: by default virtio-mmio only. An includer that defines
 * VSND_PCI also gets the virtio 1.x PCI transport (vpci.h, VirtIO 1.2
 * 4.1): vpci_probe() finds and maps the PCI function and switches every
 * vt_* operation below to it. The demo does not, and its code stays the
 * plain MMIO register accesses. */
#ifndef VSND_H
#define VSND_H

#include "../common/mmio.h"

#define VIRTIO_BASE 0x10001000UL
#define VIRTIO_STRIDE 0x1000UL
#define VIRTIO_SLOTS 8

/* virtio-mmio registers (VirtIO 1.2 4.2.2). */
#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEATURES 0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_DRIVER_LO 0x090
#define R_DRIVER_HI 0x094
#define R_DEVICE_LO 0x0a0
#define R_DEVICE_HI 0x0a4
#define R_CONFIG 0x100

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64

/* Sound device (5.14). */
#define Q_CTL 0
#define Q_EVT 1
#define Q_TX 2
#define Q_RX 3
#define PCM_INFO 0x0100
#define PCM_SET_PARAMS 0x0101
#define PCM_PREPARE 0x0102
#define PCM_RELEASE 0x0103
#define PCM_START 0x0104
#define PCM_STOP 0x0105
#define SND_OK 0x8000
#define SND_BAD_MSG 0x8001
#define SND_NOT_SUPP 0x8002
#define FMT_S16 5

#define QN 16
#define D_NEXT 1
#define D_WRITE 2

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* One split virtqueue with its three areas (2.7), statically placed. */
struct vq {
	struct desc desc[QN] __attribute__((aligned(16)));
	struct {
		uint16_t flags, idx, ring[QN], used_event;
	} avail __attribute__((aligned(2)));
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[QN];
		uint16_t avail_event;
	} used __attribute__((aligned(4)));
	uint16_t last_used;
	int index;
};

static struct vq vqs[4];
static uintptr_t dev;

static uint32_t ctl_req[8];
static uint32_t ctl_hdr;
static uint8_t ctl_payload[128];


/* ---- registers, time ---- */

static uint32_t rd(int reg) { return *(volatile uint32_t *)(dev + reg); }
static void wr(int reg, uint32_t v) { *(volatile uint32_t *)(dev + reg) = v; }
static void fence(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }

/* ---- transport operations (4.2.2 MMIO; 4.1.4 PCI) ---- */

#ifdef VSND_PCI
static int vsnd_pci; /* 1 once vpci_probe found a PCI function */
static uint32_t vpci_status(void);
static void vpci_set_status(uint32_t v);
static uint32_t vpci_rd32(int off);
static void vpci_wr32(int off, uint32_t v);
static uint32_t vpci_config32(int off);
static void vpci_queue(int index, uint16_t num, uint64_t desc, uint64_t avail, uint64_t used);
static void vpci_notify(int index);
#define C_DF_SELECT 0x00 /* struct virtio_pci_common_cfg (4.1.4.3) */
#define C_DF 0x04
#define C_GF_SELECT 0x08
#define C_GF 0x0c
#define VT(mmio, pci) (vsnd_pci ? (pci) : (mmio))
#else
#define VT(mmio, pci) (mmio)
#endif

static inline uint32_t vt_status(void) { return VT(rd(R_STATUS), vpci_status()); }
static inline void vt_set_status(uint32_t v) { VT(wr(R_STATUS, v), vpci_set_status(v)); }
static inline uint32_t vt_config32(int off) { return VT(rd(R_CONFIG + off), vpci_config32(off)); }
static inline void vt_notify(int index) { VT(wr(R_QUEUE_NOTIFY, (uint32_t)index), vpci_notify(index)); }

static inline void vt_dev_feat_sel(uint32_t sel) { VT(wr(R_DEV_FEAT_SEL, sel), vpci_wr32(C_DF_SELECT, sel)); }
static inline uint32_t vt_dev_feat(void) { return VT(rd(R_DEV_FEATURES), vpci_rd32(C_DF)); }
static inline void vt_drv_feat_sel(uint32_t sel) { VT(wr(R_DRV_FEAT_SEL, sel), vpci_wr32(C_GF_SELECT, sel)); }
static inline void vt_drv_feat(uint32_t v) { VT(wr(R_DRV_FEATURES, v), vpci_wr32(C_GF, v)); }

/* ---- virtqueues ---- */

static void setup_queue(struct vq *q, int index)
{
	q->index = index;
#ifdef VSND_PCI
	if (vsnd_pci) {
		vpci_queue(index, QN, (uint64_t)(uintptr_t)q->desc, (uint64_t)(uintptr_t)&q->avail,
			   (uint64_t)(uintptr_t)&q->used);
		return;
	}
#endif
	wr(R_QUEUE_SEL, (uint32_t)index);
	if (rd(R_QUEUE_READY) != 0)
		fail("queue ready before setup", (uint64_t)index);
	if (rd(R_QUEUE_NUM_MAX) < QN)
		fail("queue too small", rd(R_QUEUE_NUM_MAX));
	wr(R_QUEUE_NUM, QN);
	wr(R_DESC_LO, (uint32_t)(uintptr_t)q->desc);
	wr(R_DESC_HI, (uint32_t)((uint64_t)(uintptr_t)q->desc >> 32));
	wr(R_DRIVER_LO, (uint32_t)(uintptr_t)&q->avail);
	wr(R_DRIVER_HI, (uint32_t)((uint64_t)(uintptr_t)&q->avail >> 32));
	wr(R_DEVICE_LO, (uint32_t)(uintptr_t)&q->used);
	wr(R_DEVICE_HI, (uint32_t)((uint64_t)(uintptr_t)&q->used >> 32));
	wr(R_QUEUE_READY, 1);
}

static void set_desc(struct vq *q, int i, void *addr, uint32_t len, uint16_t flags, int next)
{
	q->desc[i].addr = (uint64_t)(uintptr_t)addr;
	q->desc[i].len = len;
	q->desc[i].flags = flags;
	q->desc[i].next = (uint16_t)next;
}

/* publish makes chain head available and notifies the device (2.7.13). */
static void publish(struct vq *q, int head)
{
	q->avail.ring[q->avail.idx % QN] = (uint16_t)head;
	fence(); /* ring entry before idx */
	q->avail.idx++;
	fence();
	vt_notify(q->index);
}

/* reap returns the next used chain head, or -1 if none yet; *len gets its
 * used length. */
static int reap(struct vq *q, uint32_t *len)
{
	fence();
	if (*(volatile uint16_t *)&q->used.idx == q->last_used)
		return -1;
	fence(); /* idx before the element */
	uint32_t id = q->used.ring[q->last_used % QN].id;
	if (len)
		*len = q->used.ring[q->last_used % QN].len;
	q->last_used++;
	return (int)id;
}

/* wait_used polls for a used chain for at most ms milliseconds. */
static int wait_used(struct vq *q, uint32_t *len, uint32_t ms, const char *what)
{
	uint64_t end = mtime() + (uint64_t)ms * (TIMEBASE_HZ / 1000);
	for (;;) {
		int id = reap(q, len);
		if (id >= 0)
			return id;
		if (vt_status() & S_NEEDS_RESET)
			fail("device needs reset", vt_status());
		if (mtime() > end)
			fail(what, ms);
	}
}

/* ---- control requests ---- */

/* control sends a request of reqlen bytes with a response of a 4-byte
 * header plus payload bytes (a second descriptor, as Linux does) and
 * returns the status. Linux gives each request 1 s. */
static uint32_t control(uint32_t reqlen, uint32_t payload)
{
	struct vq *q = &vqs[Q_CTL];
	set_desc(q, 0, ctl_req, reqlen, D_NEXT, 1);
	set_desc(q, 1, &ctl_hdr, 4, D_WRITE | (payload ? D_NEXT : 0), 2);
	set_desc(q, 2, ctl_payload, payload, D_WRITE, 0);
	ctl_hdr = 0;
	publish(q, 0);
	uint32_t len;
	if (wait_used(q, &len, 1000, "control request timeout") != 0)
		fail("control: wrong chain returned", 0);
	return ctl_hdr;
}

static uint32_t pcm_simple(uint32_t code, uint32_t stream)
{
	ctl_req[0] = code;
	ctl_req[1] = stream;
	return control(8, 0);
}

static void pcm_must(uint32_t code, uint32_t stream, const char *what)
{
	uint32_t st = pcm_simple(code, stream);
	if (st != SND_OK)
		fail(what, st);
}

static int rate_bit(uint32_t rate)
{
	static const uint32_t rates[] = {5512, 8000, 11025, 16000, 22050, 32000, 44100,
					 48000, 64000, 88200, 96000, 176400, 192000};
	for (int i = 0; i < 13; i++)
		if (rates[i] == rate)
			return i;
	return -1;
}

/* set_params asks for S16 stereo at rate, in periods of period_frames with
 * nperiods of them in the buffer (5.14.6.6.3). */
static void set_params(uint32_t stream, uint32_t period_frames, uint32_t nperiods, uint32_t rate)
{
	ctl_req[0] = PCM_SET_PARAMS;
	ctl_req[1] = stream;
	ctl_req[2] = nperiods * period_frames * 4; /* buffer_bytes */
	ctl_req[3] = period_frames * 4;            /* period_bytes */
	ctl_req[4] = 0;                            /* features */
	ctl_req[5] = 2 | FMT_S16 << 8 | (uint32_t)rate_bit(rate) << 16;
	uint32_t st = control(24, 0);
	if (st != SND_OK)
		fail("SET_PARAMS", st);
}

/* ---- probe and initialisation ---- */

static int probe(void)
{
	for (int n = 0; n < VIRTIO_SLOTS; n++) {
		dev = VIRTIO_BASE + (uintptr_t)n * VIRTIO_STRIDE;
		if (rd(R_MAGIC) == 0x74726976 && rd(R_VERSION) == 2 && rd(R_DEVICE_ID) == 25)
			return n;
	}
	return -1;
}

static void init_device(void)
{
	vt_set_status(0);
	vt_set_status(S_ACK);
	vt_set_status(S_ACK | S_DRIVER);
	vt_dev_feat_sel(1);
	if ((vt_dev_feat() & 1) == 0)
		fail("VERSION_1 not offered", vt_dev_feat());
	vt_drv_feat_sel(0);
	vt_drv_feat(0);
	vt_drv_feat_sel(1);
	vt_drv_feat(1); /* VERSION_1 */
	vt_set_status(S_ACK | S_DRIVER | S_FEATURES_OK);
	if ((vt_status() & S_FEATURES_OK) == 0)
		fail("FEATURES_OK refused", vt_status());
	for (int i = 0; i < 4; i++)
		setup_queue(&vqs[i], i);
	vt_set_status(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

#ifdef VSND_PCI
#include "vpci.h"
#endif

#endif
