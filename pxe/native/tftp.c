/*
 * netroot_tftp: TFTP read transfers run to completion in C, off the JavaScript thread.
 *
 * Why: a lock-step transfer is one ACK in, one DATA out, thousands of times a second. Through
 * Node's dgram every block costs a wake of the event loop, a JS callback, a Buffer and a libuv
 * send request (~30 us here, against ~18 us for tftpd-hpa's fork-per-transfer C loop), so netroot
 * served a single client at 0.5-0.6x tftpd-hpa. Here JavaScript does what it is good at (decode the
 * RRQ, ask the file handler, negotiate options) and hands the transfer over once; a few native
 * threads then run every transfer and report one result per transfer.
 *
 * Shape: `threads` workers, each an epoll loop over the transfers it owns (chosen least loaded at
 * start). A transfer has its own unconnected UDP socket bound on the listen address (its TID,
 * RFC 1350 section 4; unconnected so that a packet from a foreign TID still reaches us and gets
 * error 5). Per wake: recvmmsg drains the ACKs a socket holds in one call; the blocks of a window
 * go out in one sendmmsg. Bytes come from memory (a Buffer the JS side keeps referenced, e.g. the
 * file cache) or from an fd read with pread in chunks of at least 64 KiB, so a lock-step 512-octet
 * transfer makes about three system calls per block (epoll_wait, recvmmsg, sendmmsg), where
 * tftpd-hpa makes four (sendto, read, poll, recv). Timers are one min-heap per worker, keyed
 * lazily: an ACK only moves a transfer's deadline later, which costs nothing until it reaches the
 * top of the heap. A cold read blocks that worker's other transfers for its duration; boot files
 * are hot in the page cache, and the fd is advised sequential.
 *
 * Protocol rules are those of pxe/tftp/transfer.ts (the JavaScript path, used when this addon is
 * not built or a transfer needs a stream): windows per RFC 7440, the OACK's ACK 0, block numbers
 * rolling over, duplicate or out-of-window ACKs never answered (RFC 1123 4.2.3.2, Sorcerer's
 * Apprentice), a mid-window ACK resending the rest of the window once, error 5 to strangers. The
 * retransmission timeout adapts to the measured round trip as in RFC 6298 (SRTT/RTTVAR, bounded
 * below and above, doubled on expiry, Karn's rule: no sample from a block sent twice); a transfer
 * is abandoned when the client has been silent as long as the fixed schedule would have waited.
 *
 * API (pxe/native/tftp.ts types it):
 *   create(threads, onDone) -> engine          onDone(id, result) is called on the JS thread
 *   start(engine, job) -> worker index          throws (and closes job.fd) when no socket can be made
 *   abort(engine, worker, id, reason)           the transfer ends as 'aborted'
 *   close(engine)                               aborts what runs, joins the threads
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OP_OACK_ACK 0
#define OP_DATA 3
#define OP_ACK 4
#define OP_ERROR 5
#define SEND_BATCH 64      /* DATA packets per sendmmsg */
#define RECV_BATCH 8       /* packets per recvmmsg */
#define RECV_BYTES 1024    /* ACK and ERROR; a longer ERROR message is cut */
#define CHUNK_MIN (64u << 10)
#define CHUNK_MAX (1u << 20)
#define NO_HEAP ((size_t)-1)

typedef enum { OUT_OK, OUT_TIMEOUT, OUT_PEER_ERROR, OUT_READ_ERROR, OUT_ABORTED } outcome_t;
static const char *const OUTCOME[] = {"ok", "timeout", "peer-error", "read-error", "aborted"};

typedef struct xfer {
  double id;
  int sock;     /* connected to the peer when `connected`: no route lookup per send */
  int stray;    /* unconnected, same port: packets from other TIDs (-1 when sock is unconnected) */
  int connected;
  struct sockaddr_in peer;
  /* Source: bytes in memory, or an fd read in chunks. */
  const uint8_t *data;
  uint64_t size;
  napi_ref data_ref;
  int file;
  uint8_t *chunk;
  uint64_t chunk_block; /* block number of the chunk's first byte */
  uint64_t chunk_len;
  uint32_t chunk_cap_blocks;
  int chunk_eof;
  uint64_t last; /* final block (shorter than blksize, maybe empty); 0 = not known yet */
  uint32_t last_len;
  uint32_t blksize, window;
  uint8_t *oack;
  uint32_t oack_len;
  int in_oack, oack_resent;
  uint64_t oack_sent_at;
  /* Window state, as in transfer.ts. */
  uint64_t acked, max_sent, next, resent_up_to;
  uint64_t *sent_at; /* [block % window]: first send time, 0 once sent again (Karn) */
  /* Retransmission timer, microseconds. */
  double srtt, rttvar;
  int have_rtt;
  uint64_t rto, min_rto, max_rto, give_up;
  uint64_t silent_since, deadline;
  int final;
  uint32_t tries;
  size_t heap_i;
  uint64_t heap_key;
  int want_write;
  /* Result. */
  uint64_t bytes, data_packets, retransmits, ignored_acks, strangers;
  int finished;
  outcome_t outcome;
  char error[320];
  size_t list_i;
  struct xfer *dead_next;
} xfer;

typedef enum { CMD_START, CMD_ABORT, CMD_QUIT } cmd_type;
typedef struct cmd {
  cmd_type type;
  xfer *t;
  double id;
  char reason[128];
  struct cmd *next;
} cmd;

struct engine;
typedef struct worker {
  struct engine *eng;
  pthread_t thread;
  int started;
  int ep, wake;
  pthread_mutex_t mu;
  cmd *head, *tail;
  atomic_int load;
  xfer **list;
  size_t n, cap;
  xfer **heap;
  size_t hn, hcap;
  xfer *dead;
  struct mmsghdr smsg[SEND_BATCH];
  struct iovec siov[SEND_BATCH][2];
  uint8_t shdr[SEND_BATCH][4];
  struct mmsghdr rmsg[RECV_BATCH];
  struct iovec riov[RECV_BATCH];
  uint8_t rbuf[RECV_BATCH][RECV_BYTES];
  struct sockaddr_in rfrom[RECV_BATCH];
} worker;

typedef struct engine {
  int nworkers;
  worker *w;
  napi_threadsafe_function tsfn;
  napi_env env;
  int closed;
} engine;

typedef struct result {
  double id;
  outcome_t outcome;
  double bytes, blocks, data_packets, retransmits, ignored_acks, strangers;
  char error[320];
  int has_error;
  napi_ref data_ref;
} result;

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- timer heap (min by heap_key; a key may lag its transfer's later deadline) ---- */

static void heap_swap(worker *w, size_t a, size_t b) {
  xfer *t = w->heap[a];
  w->heap[a] = w->heap[b];
  w->heap[b] = t;
  w->heap[a]->heap_i = a;
  w->heap[b]->heap_i = b;
}
static void heap_up(worker *w, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (w->heap[p]->heap_key <= w->heap[i]->heap_key) break;
    heap_swap(w, i, p);
    i = p;
  }
}
static void heap_down(worker *w, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < w->hn && w->heap[l]->heap_key < w->heap[m]->heap_key) m = l;
    if (r < w->hn && w->heap[r]->heap_key < w->heap[m]->heap_key) m = r;
    if (m == i) return;
    heap_swap(w, i, m);
    i = m;
  }
}
static int heap_push(worker *w, xfer *t) {
  if (w->hn == w->hcap) {
    size_t cap = w->hcap ? w->hcap * 2 : 64;
    xfer **h = realloc(w->heap, cap * sizeof *h);
    if (!h) return -1;
    w->heap = h;
    w->hcap = cap;
  }
  t->heap_i = w->hn;
  w->heap[w->hn++] = t;
  heap_up(w, t->heap_i);
  return 0;
}
static void heap_remove(worker *w, xfer *t) {
  size_t i = t->heap_i;
  if (i == NO_HEAP) return;
  t->heap_i = NO_HEAP;
  if (--w->hn == i) return;
  xfer *m = w->heap[w->hn];
  w->heap[i] = m;
  m->heap_i = i;
  heap_down(w, i);
  heap_up(w, m->heap_i);
}
/* Sets the deadline; the heap is touched only when it moves earlier than the key. */
static void timer_set(worker *w, xfer *t, uint64_t deadline) {
  t->deadline = deadline;
  if (t->heap_i == NO_HEAP) {
    t->heap_key = deadline;
    if (heap_push(w, t) < 0) t->heap_i = NO_HEAP; /* out of memory: the transfer has no timer */
  } else if (deadline < t->heap_key) {
    t->heap_key = deadline;
    heap_up(w, t->heap_i);
  }
}

/* ---- results to JavaScript ---- */

static void finish(worker *w, xfer *t, outcome_t outcome, const char *error) {
  if (t->finished) return;
  t->finished = 1;
  t->outcome = outcome;
  if (error) snprintf(t->error, sizeof t->error, "%s", error);
  heap_remove(w, t);
  epoll_ctl(w->ep, EPOLL_CTL_DEL, t->sock, NULL);
  close(t->sock);
  t->sock = -1;
  if (t->stray >= 0) {
    epoll_ctl(w->ep, EPOLL_CTL_DEL, t->stray, NULL);
    close(t->stray);
    t->stray = -1;
  }
  if (t->file >= 0) close(t->file);
  t->file = -1;
  /* Off the worker's list (swap with its last); freed after the current batch of events. */
  size_t i = t->list_i;
  w->list[i] = w->list[--w->n];
  w->list[i]->list_i = i;
  t->dead_next = w->dead;
  w->dead = t;
  atomic_fetch_sub(&w->load, 1);

  result *r = calloc(1, sizeof *r);
  if (!r) return; /* the promise then waits for stop()'s deadline; nothing better to do */
  r->id = t->id;
  r->outcome = outcome;
  r->bytes = (double)t->bytes;
  r->blocks = (double)(t->last ? t->last : t->max_sent);
  r->data_packets = (double)t->data_packets;
  r->retransmits = (double)t->retransmits;
  r->ignored_acks = (double)t->ignored_acks;
  r->strangers = (double)t->strangers;
  r->has_error = t->error[0] != 0;
  memcpy(r->error, t->error, sizeof r->error);
  r->data_ref = t->data_ref;
  t->data_ref = NULL;
  if (napi_call_threadsafe_function(w->eng->tsfn, r, napi_tsfn_nonblocking) != napi_ok) free(r);
}

static void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_value x;
  napi_create_double(env, v, &x);
  napi_set_named_property(env, obj, name, x);
}

static void call_js(napi_env env, napi_value cb, void *ctx, void *data) {
  (void)ctx;
  result *r = data;
  if (env && cb) {
    if (r->data_ref) napi_delete_reference(env, r->data_ref);
    napi_value obj, id, s, undef;
    napi_create_object(env, &obj);
    napi_create_string_utf8(env, OUTCOME[r->outcome], NAPI_AUTO_LENGTH, &s);
    napi_set_named_property(env, obj, "outcome", s);
    set_num(env, obj, "bytes", r->bytes);
    set_num(env, obj, "blocks", r->blocks);
    set_num(env, obj, "dataPackets", r->data_packets);
    set_num(env, obj, "retransmits", r->retransmits);
    set_num(env, obj, "ignoredAcks", r->ignored_acks);
    set_num(env, obj, "strangers", r->strangers);
    if (r->has_error) {
      napi_create_string_utf8(env, r->error, NAPI_AUTO_LENGTH, &s);
      napi_set_named_property(env, obj, "error", s);
    }
    napi_create_double(env, r->id, &id);
    napi_get_undefined(env, &undef);
    napi_value argv[2] = {id, obj};
    napi_call_function(env, undef, cb, 2, argv, NULL);
  }
  free(r);
}

/* ---- sending ---- */

/* `to` NULL: the connected peer. */
static void send_error(int sock, const struct sockaddr_in *to, uint16_t code, const char *msg) {
  uint8_t buf[128];
  size_t len = strlen(msg);
  buf[0] = 0;
  buf[1] = OP_ERROR;
  buf[2] = (uint8_t)(code >> 8);
  buf[3] = (uint8_t)code;
  memcpy(buf + 4, msg, len + 1);
  sendto(sock, buf, 4 + len + 1, 0, (const struct sockaddr *)to, to ? sizeof *to : 0);
}

/* The peer's address for a send: none on a connected socket. */
static const struct sockaddr_in *dest(const xfer *t) {
  return t->connected ? NULL : &t->peer;
}

static void send_oack(xfer *t) {
  /* A send that fails (a firewall's EPERM, a full buffer) is a lost packet: the timer resends. */
  sendto(t->sock, t->oack, t->oack_len, 0, (const struct sockaddr *)dest(t), t->connected ? 0 : sizeof t->peer);
}

/* Fills the chunk from block `first` on; returns 0 or -1 (errno). */
static int refill(xfer *t, uint64_t first) {
  uint64_t off = (first - 1) * (uint64_t)t->blksize;
  uint64_t cap = (uint64_t)t->chunk_cap_blocks * t->blksize;
  uint64_t got = 0;
  int eof = 0;
  while (got < cap) {
    ssize_t n = pread(t->file, t->chunk + got, cap - got, (off_t)(off + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) {
      eof = 1;
      break;
    }
    got += (uint64_t)n;
  }
  t->chunk_block = first;
  t->chunk_len = got;
  t->chunk_eof = eof;
  if (eof) {
    /* A file that is a multiple of blksize ends with an empty block (RFC 1350 section 6). */
    t->last = first + got / t->blksize;
    t->last_len = (uint32_t)(got % t->blksize);
  }
  return 0;
}

/*
 * Block i's bytes. Returns 0 (ptr/len set), 1 (no such block: past the end), 2 (not in the chunk
 * and `may_read` is 0: send what is batched first, the chunk is about to move), -1 (read error).
 */
static int block_at(xfer *t, uint64_t i, int may_read, const uint8_t **ptr, uint32_t *len) {
  if (t->last && i > t->last) return 1;
  if (t->data) {
    uint64_t off = (i - 1) * (uint64_t)t->blksize;
    *ptr = t->data + off;
    *len = i == t->last ? t->last_len : t->blksize;
    return 0;
  }
  uint64_t have = t->chunk_len / t->blksize + (t->chunk_eof ? 1 : 0);
  if (!(t->chunk && i >= t->chunk_block && i < t->chunk_block + have)) {
    if (!may_read) return 2;
    /* Start at the window's first block when the window fits: a timeout resends from there. */
    uint64_t from = i - (t->acked + 1) < t->chunk_cap_blocks ? t->acked + 1 : i;
    if (refill(t, from) < 0) return -1;
    if (t->last && i > t->last) return 1;
  }
  *ptr = t->chunk + (i - t->chunk_block) * t->blksize;
  *len = i == t->last ? t->last_len : t->blksize;
  return 0;
}

static void set_events(worker *w, xfer *t, uint32_t ev) {
  struct epoll_event e = {.events = ev, .data.u64 = (uint64_t)(uintptr_t)t};
  epoll_ctl(w->ep, EPOLL_CTL_MOD, t->sock, &e);
}

/* Sends blocks from `next` to the end of the window (acked + window). */
static void pump(worker *w, xfer *t, uint64_t now) {
  if (t->want_write) return; /* EPOLLOUT resumes */
  while (!t->finished && !t->in_oack && t->next <= t->acked + t->window) {
    uint64_t first = t->next;
    int k = 0;
    while (k < SEND_BATCH && first + (uint64_t)k <= t->acked + t->window) {
      uint64_t i = first + (uint64_t)k;
      const uint8_t *p;
      uint32_t len;
      int r = block_at(t, i, k == 0, &p, &len);
      if (r == 1 || r == 2) break;
      if (r < 0) {
        char why[160];
        snprintf(why, sizeof why, "pread: %s", strerror(errno));
        send_error(t->sock, dest(t), 0, "Read error");
        finish(w, t, OUT_READ_ERROR, why);
        return;
      }
      uint8_t *h = w->shdr[k];
      h[0] = 0;
      h[1] = OP_DATA;
      h[2] = (uint8_t)(i >> 8);
      h[3] = (uint8_t)i;
      w->siov[k][0].iov_base = h;
      w->siov[k][0].iov_len = 4;
      w->siov[k][1].iov_base = (void *)p;
      w->siov[k][1].iov_len = len;
      struct msghdr *m = &w->smsg[k].msg_hdr;
      memset(m, 0, sizeof *m);
      if (!t->connected) {
        m->msg_name = &t->peer;
        m->msg_namelen = sizeof t->peer;
      }
      m->msg_iov = w->siov[k];
      m->msg_iovlen = 2;
      k++;
    }
    if (k == 0) return;
    int done = 0;
    while (done < k) {
      int r = sendmmsg(t->sock, w->smsg + done, (unsigned)(k - done), 0);
      if (r > 0) {
        done += r;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      /* Refused by a firewall (EPERM), no route, no buffer: lost like on the wire; the timer resends. */
      done++;
    }
    for (int j = 0; j < done; j++) {
      uint64_t i = first + (uint64_t)j;
      t->data_packets++;
      if (i > t->max_sent) {
        t->max_sent = i;
        t->sent_at[i % t->window] = now;
      } else {
        t->sent_at[i % t->window] = 0; /* Karn: its ACK no longer times one trip */
      }
    }
    t->next = first + (uint64_t)done;
    if (done < k) {
      t->want_write = 1;
      set_events(w, t, EPOLLIN | EPOLLOUT);
      return;
    }
  }
}

/* ---- retransmission timer (RFC 6298) ---- */

static void rtt_sample(xfer *t, uint64_t r_us) {
  double r = (double)r_us;
  if (!t->have_rtt) {
    t->srtt = r;
    t->rttvar = r / 2;
    t->have_rtt = 1;
  } else {
    t->rttvar = 0.75 * t->rttvar + 0.25 * fabs(t->srtt - r);
    t->srtt = 0.875 * t->srtt + 0.125 * r;
  }
  double rto = t->srtt + 4 * t->rttvar;
  if (rto < (double)t->min_rto) rto = (double)t->min_rto;
  if (rto > (double)t->max_rto) rto = (double)t->max_rto;
  t->rto = (uint64_t)rto;
}

/* Next expiry: one RTO from now or, once less than 1.5 RTO of the give-up time remain, the give-up
 * time itself (the rule of transfer.ts). */
static void arm(worker *w, xfer *t, uint64_t now) {
  uint64_t g = t->silent_since + t->give_up;
  uint64_t left = g > now ? g - now : 0;
  t->final = t->rto + t->rto / 2 >= left;
  timer_set(w, t, t->final ? g : now + t->rto);
}

static void progress(worker *w, xfer *t, uint64_t now) {
  t->tries = 0;
  t->silent_since = now;
  arm(w, t, now);
}

static void on_timeout(worker *w, xfer *t, uint64_t now) {
  if (t->final) {
    char why[128];
    snprintf(why, sizeof why, "no ACK for %llu ms (%u retransmissions)", (unsigned long long)((now - t->silent_since) / 1000), t->tries);
    finish(w, t, OUT_TIMEOUT, why);
    return;
  }
  t->tries++;
  t->retransmits++;
  t->rto = t->rto * 2 > t->max_rto ? t->max_rto : t->rto * 2;
  arm(w, t, now);
  if (t->in_oack) {
    t->oack_resent = 1;
    send_oack(t);
  } else {
    t->next = t->acked + 1;
    t->resent_up_to = 0;
    pump(w, t, now);
  }
}

/* ---- receiving ---- */

static void on_ack(worker *w, xfer *t, uint32_t wire, uint64_t now) {
  if (t->in_oack) {
    /* RFC 2347: the client acknowledges the OACK with ACK 0. */
    if (wire != OP_OACK_ACK) {
      t->ignored_acks++;
      return;
    }
    t->in_oack = 0;
    if (!t->oack_resent) rtt_sample(t, now - t->oack_sent_at);
    progress(w, t, now);
    pump(w, t, now);
    return;
  }
  /* Block numbers are 16 bits and roll over: the one absolute block in [acked, max_sent]. */
  uint64_t n = t->acked + ((wire - (t->acked & 0xffff)) & 0xffff);
  if (n == t->acked || n > t->max_sent) {
    /* Duplicate or out-of-window ACK: RFC 1123 4.2.3.2, never answered with data. */
    t->ignored_acks++;
    return;
  }
  t->bytes += (n - t->acked) * (uint64_t)t->blksize;
  if (t->last && n == t->last) t->bytes -= t->blksize - t->last_len;
  uint64_t sent = t->sent_at[n % t->window];
  if (sent) rtt_sample(t, now - sent);
  t->acked = n;
  if (t->last && n >= t->last) {
    finish(w, t, OUT_OK, NULL);
    return;
  }
  /* RFC 7440 window slide; blocks resent after a mid-window ACK are not resent again by the next
   * mid-window ACK until the client acknowledges past them (see transfer.ts). */
  if (n + 1 < t->next && n >= t->resent_up_to) {
    t->next = n + 1;
    t->resent_up_to = t->max_sent < n + t->window ? t->max_sent : n + t->window;
  } else if (t->next < n + 1) {
    t->next = n + 1;
  }
  progress(w, t, now);
  pump(w, t, now);
}

/* Reads what `fd` holds: the data socket, or the stray socket (other TIDs, and the peer only if a
 * packet of its raced the connect). */
static void on_readable(worker *w, xfer *t, int fd, uint64_t now) {
  for (int j = 0; j < RECV_BATCH; j++) {
    w->riov[j].iov_base = w->rbuf[j];
    w->riov[j].iov_len = RECV_BYTES;
    struct msghdr *m = &w->rmsg[j].msg_hdr;
    memset(m, 0, sizeof *m);
    m->msg_name = &w->rfrom[j];
    m->msg_namelen = sizeof w->rfrom[j];
    m->msg_iov = &w->riov[j];
    m->msg_iovlen = 1;
  }
  int n = recvmmsg(fd, w->rmsg, RECV_BATCH, MSG_DONTWAIT, NULL);
  for (int j = 0; j < n && !t->finished; j++) {
    const struct sockaddr_in *from = &w->rfrom[j];
    const uint8_t *b = w->rbuf[j];
    unsigned len = w->rmsg[j].msg_len;
    if (from->sin_port != t->peer.sin_port || from->sin_addr.s_addr != t->peer.sin_addr.s_addr) {
      /* RFC 1350 section 4: a packet from a wrong TID gets error 5; the transfer goes on. */
      t->strangers++;
      send_error(fd, from, 5, "Unknown transfer ID");
      continue;
    }
    if (len < 4 || b[0] != 0) continue; /* garbage from the peer: the timer recovers */
    if (b[1] == OP_ACK) {
      on_ack(w, t, ((uint32_t)b[2] << 8) | b[3], now);
    } else if (b[1] == OP_ERROR) {
      unsigned code = ((unsigned)b[2] << 8) | b[3];
      const uint8_t *msg = b + 4;
      unsigned mlen = len > RECV_BYTES ? RECV_BYTES - 4 : len - 4;
      const uint8_t *nul = memchr(msg, 0, mlen);
      if (nul) mlen = (unsigned)(nul - msg);
      char why[320];
      snprintf(why, sizeof why, "client error %u: %.*s", code, (int)mlen, (const char *)msg);
      finish(w, t, OUT_PEER_ERROR, why);
    }
    /* Anything else from the peer (a repeated RRQ, DATA) is ignored. */
  }
}

/* ---- the worker loop ---- */

static void xfer_free(xfer *t) {
  if (t->sock >= 0) close(t->sock);
  if (t->stray >= 0) close(t->stray);
  if (t->file >= 0) close(t->file);
  free(t->chunk);
  free(t->oack);
  free(t->sent_at);
  free(t);
}

static void begin(worker *w, xfer *t, uint64_t now) {
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 64;
    xfer **l = realloc(w->list, cap * sizeof *l);
    if (!l) {
      /* Cannot track it: answer nothing, the client retries its RRQ. */
      xfer_free(t);
      atomic_fetch_sub(&w->load, 1);
      return;
    }
    w->list = l;
    w->cap = cap;
  }
  t->list_i = w->n;
  w->list[w->n++] = t;
  /* Event data: the transfer's address, its low bit set for the stray socket (malloc aligns). */
  struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)(uintptr_t)t};
  epoll_ctl(w->ep, EPOLL_CTL_ADD, t->sock, &e);
  if (t->stray >= 0) {
    struct epoll_event es = {.events = EPOLLIN, .data.u64 = (uint64_t)(uintptr_t)t | 1};
    epoll_ctl(w->ep, EPOLL_CTL_ADD, t->stray, &es);
  }
  t->silent_since = now;
  if (t->oack) {
    t->oack_sent_at = now;
    send_oack(t);
  } else {
    pump(w, t, now);
  }
  if (!t->finished) arm(w, t, now);
}

/* Runs queued commands; returns 1 when the worker must stop. */
static int run_commands(worker *w, uint64_t now) {
  uint64_t v;
  while (read(w->wake, &v, sizeof v) > 0) {
  }
  pthread_mutex_lock(&w->mu);
  cmd *c = w->head;
  w->head = w->tail = NULL;
  pthread_mutex_unlock(&w->mu);
  int quit = 0;
  while (c) {
    cmd *nx = c->next;
    if (c->type == CMD_START) {
      begin(w, c->t, now);
    } else if (c->type == CMD_ABORT) {
      for (size_t i = 0; i < w->n; i++) {
        if (w->list[i]->id == c->id) {
          finish(w, w->list[i], OUT_ABORTED, c->reason);
          break;
        }
      }
    } else {
      quit = 1;
    }
    free(c);
    c = nx;
  }
  return quit;
}

static void free_dead(worker *w) {
  while (w->dead) {
    xfer *t = w->dead;
    w->dead = t->dead_next;
    xfer_free(t);
  }
}

static void *worker_main(void *arg) {
  worker *w = arg;
  struct epoll_event ev[64];
  for (;;) {
    int timeout = -1;
    if (w->hn) {
      uint64_t now = now_us(), k = w->heap[0]->heap_key;
      timeout = k <= now ? 0 : (int)((k - now + 999) / 1000);
    }
    int n = epoll_wait(w->ep, ev, 64, timeout);
    if (n < 0 && errno != EINTR) break;
    uint64_t now = now_us();
    int quit = 0;
    for (int i = 0; i < n; i++) {
      if (ev[i].data.ptr == w) {
        quit |= run_commands(w, now);
        continue;
      }
      uint64_t tag = ev[i].data.u64;
      xfer *t = (xfer *)(uintptr_t)(tag & ~(uint64_t)1);
      if (t->finished) continue;
      if (tag & 1) {
        on_readable(w, t, t->stray, now);
        continue;
      }
      if (ev[i].events & EPOLLOUT) {
        t->want_write = 0;
        set_events(w, t, EPOLLIN);
        pump(w, t, now);
      }
      if (!t->finished && (ev[i].events & (EPOLLIN | EPOLLERR))) on_readable(w, t, t->sock, now);
    }
    while (w->hn && w->heap[0]->heap_key <= now) {
      xfer *t = w->heap[0];
      if (t->deadline > now) {
        t->heap_key = t->deadline;
        heap_down(w, 0);
        continue;
      }
      heap_remove(w, t);
      on_timeout(w, t, now);
    }
    free_dead(w);
    if (quit) break;
  }
  while (w->n) finish(w, w->list[0], OUT_ABORTED, "server stopping");
  free_dead(w);
  return NULL;
}

/* ---- N-API ---- */

static napi_value throw_err(napi_env env, const char *what, int err) {
  char msg[200];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void post(worker *w, cmd *c) {
  pthread_mutex_lock(&w->mu);
  if (w->tail) w->tail->next = c;
  else w->head = c;
  w->tail = c;
  pthread_mutex_unlock(&w->mu);
  uint64_t one = 1;
  ssize_t r = write(w->wake, &one, sizeof one);
  (void)r;
}

static void stop_workers(engine *e) {
  if (e->closed) return;
  e->closed = 1;
  for (int i = 0; i < e->nworkers; i++) {
    worker *w = &e->w[i];
    if (!w->started) continue;
    cmd *c = calloc(1, sizeof *c);
    if (c) {
      c->type = CMD_QUIT;
      post(w, c);
    }
  }
  for (int i = 0; i < e->nworkers; i++) {
    worker *w = &e->w[i];
    if (w->started) pthread_join(w->thread, NULL);
    w->started = 0;
    cmd *c = w->head;
    while (c) {
      cmd *nx = c->next;
      if (c->t) xfer_free(c->t);
      free(c);
      c = nx;
    }
    w->head = w->tail = NULL;
    if (w->ep >= 0) close(w->ep);
    if (w->wake >= 0) close(w->wake);
    w->ep = w->wake = -1;
    free(w->list);
    free(w->heap);
    w->list = NULL;
    w->heap = NULL;
  }
}

static void env_cleanup(void *arg) {
  stop_workers(arg);
}

static void engine_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  engine *e = data;
  if (!e->closed) {
    napi_remove_env_cleanup_hook(env, env_cleanup, e);
    stop_workers(e);
    napi_release_threadsafe_function(e->tsfn, napi_tsfn_release);
  }
  free(e->w);
  free(e);
}

static engine *get_engine(napi_env env, napi_value v) {
  engine *e = NULL;
  if (napi_get_value_external(env, v, (void **)&e) != napi_ok || !e) {
    napi_throw_type_error(env, NULL, "engine: expected the value create() returned");
    return NULL;
  }
  return e;
}

static napi_value js_create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t threads = 0;
  napi_valuetype cbt = napi_undefined;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1 || threads > 64 ||
      napi_typeof(env, argv[1], &cbt) != napi_ok || cbt != napi_function) {
    napi_throw_type_error(env, NULL, "create(threads 1-64, onDone)");
    return NULL;
  }
  engine *e = calloc(1, sizeof *e);
  worker *ws = e ? calloc((size_t)threads, sizeof *ws) : NULL;
  if (!ws) {
    free(e);
    return throw_err(env, "create", ENOMEM);
  }
  e->w = ws;
  e->nworkers = threads;
  e->env = env;
  napi_value name;
  napi_create_string_utf8(env, "netroot_tftp", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &e->tsfn) != napi_ok) {
    free(ws);
    free(e);
    napi_throw_error(env, NULL, "create: napi_create_threadsafe_function failed");
    return NULL;
  }
  /* The listening socket keeps the process alive while a server runs, not the engine. */
  napi_unref_threadsafe_function(env, e->tsfn);
  for (int i = 0; i < threads; i++) {
    ws[i].eng = e;
    ws[i].ep = ws[i].wake = -1;
    pthread_mutex_init(&ws[i].mu, NULL);
  }
  for (int i = 0; i < threads; i++) {
    worker *w = &ws[i];
    int err = 0;
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    if (w->ep < 0) err = errno;
    if (!err && (w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) err = errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
    if (!err && epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &ev) < 0) err = errno;
    if (!err) err = pthread_create(&w->thread, NULL, worker_main, w);
    if (!err) {
      w->started = 1;
      continue;
    }
    stop_workers(e);
    napi_release_threadsafe_function(e->tsfn, napi_tsfn_release);
    free(ws);
    free(e);
    return throw_err(env, "create: worker", err);
  }
  napi_add_env_cleanup_hook(env, env_cleanup, e);
  napi_value out;
  napi_create_external(env, e, engine_finalize, NULL, &out);
  return out;
}

static int prop_double(napi_env env, napi_value obj, const char *name, double *out) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok || t != napi_number) return -1;
  return napi_get_value_double(env, v, out) == napi_ok ? 0 : -1;
}

/* A Uint8Array property: 1 and data/len set, 0 when absent (undefined/null), -1 when wrong. */
static int prop_bytes(napi_env env, napi_value obj, const char *name, napi_value *val, const uint8_t **data, size_t *len) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_undefined || t == napi_null) return 0;
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return -1;
  napi_typedarray_type tt;
  void *p;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &tt, len, &p, &ab, &off) != napi_ok || tt != napi_uint8_array) return -1;
  *data = p;
  *val = v;
  return 1;
}

/*
 * The transfer's sockets. An unconnected socket takes the port (the kernel picks one no other
 * socket holds); a second socket joins that port through SO_REUSEPORT (set on the first only after
 * its bind, so no later bind(0) can share the port) and is connected to the peer: the kernel
 * delivers the peer's packets to it (a connected socket outscores an unconnected one) and sends
 * from it without a route lookup per packet; everything else reaches the first, which answers
 * error 5. If the second socket cannot be made, the first does all the work, unconnected.
 * Returns 0 or an errno.
 */
static int open_sockets(xfer *t, const struct sockaddr_in *local) {
  int a = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (a < 0) return errno;
  struct sockaddr_in bound;
  socklen_t len = sizeof bound;
  if (bind(a, (const struct sockaddr *)local, sizeof *local) < 0 || getsockname(a, (struct sockaddr *)&bound, &len) < 0) {
    int e = errno;
    close(a);
    return e;
  }
  t->sock = a;
  int one = 1;
  int b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (b < 0) return 0;
  if (setsockopt(a, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 || setsockopt(b, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
      bind(b, (const struct sockaddr *)&bound, sizeof bound) < 0 || connect(b, (const struct sockaddr *)&t->peer, sizeof t->peer) < 0) {
    close(b);
    return 0;
  }
  t->stray = a;
  t->sock = b;
  t->connected = 1;
  return 0;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return throw_err(env, "start(engine, job)", EINVAL);
  engine *e = get_engine(env, argv[0]);
  if (!e) return NULL;
  napi_value job = argv[1];
  double id, fd = -1, port, blksize, window, timeout, min_t, max_t, give_up;
  char host[64], address[64];
  size_t hl = 0, al = 0;
  napi_value hv, av, data_v = NULL, oack_v = NULL;
  const uint8_t *data = NULL, *oack = NULL;
  size_t data_len = 0, oack_len = 0;
  int has_fd = 0;
  napi_value fdv;
  napi_valuetype fdt = napi_undefined;
  if (napi_get_named_property(env, job, "fd", &fdv) == napi_ok) napi_typeof(env, fdv, &fdt);
  if (fdt == napi_number) {
    napi_get_value_double(env, fdv, &fd);
    has_fd = 1;
  }
  int has_data = prop_bytes(env, job, "data", &data_v, &data, &data_len);
  int has_oack = prop_bytes(env, job, "oack", &oack_v, &oack, &oack_len);
  if (prop_double(env, job, "id", &id) || prop_double(env, job, "port", &port) || prop_double(env, job, "blksize", &blksize) ||
      prop_double(env, job, "windowsize", &window) || prop_double(env, job, "timeoutMs", &timeout) ||
      prop_double(env, job, "minTimeoutMs", &min_t) || prop_double(env, job, "maxTimeoutMs", &max_t) ||
      prop_double(env, job, "giveUpMs", &give_up) || napi_get_named_property(env, job, "host", &hv) != napi_ok ||
      napi_get_value_string_utf8(env, hv, host, sizeof host, &hl) != napi_ok ||
      napi_get_named_property(env, job, "address", &av) != napi_ok ||
      napi_get_value_string_utf8(env, av, address, sizeof address, &al) != napi_ok || has_data < 0 || has_oack < 0 ||
      (has_data == 1) == has_fd || blksize < 8 || blksize > 65464 || window < 1 || window > 65535 || port < 1 || port > 65535 ||
      timeout < 1 || min_t < 1 || max_t < 1 || give_up < 1) {
    if (has_fd && fd >= 0) close((int)fd);
    napi_throw_type_error(env, NULL, "start: job needs id, host, address, port, blksize, windowsize, timeoutMs, minTimeoutMs, maxTimeoutMs, giveUpMs and one of data or fd");
    return NULL;
  }
  struct sockaddr_in local = {.sin_family = AF_INET}, peer = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &local.sin_addr) != 1 || inet_pton(AF_INET, address, &peer.sin_addr) != 1) {
    if (has_fd) close((int)fd);
    return throw_err(env, "start: not an IPv4 address", EINVAL);
  }
  if (e->closed) {
    if (has_fd) close((int)fd);
    return throw_err(env, "start: engine closed", ESHUTDOWN);
  }
  xfer *t = calloc(1, sizeof *t);
  if (!t) {
    if (has_fd) close((int)fd);
    return throw_err(env, "start", ENOMEM);
  }
  t->id = id;
  t->peer = peer;
  t->file = has_fd ? (int)fd : -1;
  t->blksize = (uint32_t)blksize;
  t->window = (uint32_t)window;
  t->next = 1;
  t->heap_i = NO_HEAP;
  t->sock = t->stray = -1;
  int err = open_sockets(t, &local);
  if (err) {
    xfer_free(t);
    return throw_err(env, "start: transfer socket", err);
  }
  t->sent_at = calloc(t->window, sizeof *t->sent_at);
  if (has_oack) {
    t->oack = malloc(oack_len);
    if (t->oack) memcpy(t->oack, oack, oack_len);
    t->oack_len = (uint32_t)oack_len;
    t->in_oack = 1;
  }
  if (has_data == 1) {
    t->data = data;
    t->size = data_len;
    t->last = data_len / t->blksize + 1;
    t->last_len = (uint32_t)(data_len % t->blksize);
    napi_create_reference(env, data_v, 1, &t->data_ref);
  } else {
    uint64_t bytes = (uint64_t)t->blksize * t->window;
    if (bytes < CHUNK_MIN) bytes = CHUNK_MIN;
    if (bytes > CHUNK_MAX) bytes = CHUNK_MAX;
    t->chunk_cap_blocks = (uint32_t)(bytes / t->blksize);
    if (t->chunk_cap_blocks == 0) t->chunk_cap_blocks = 1;
    t->chunk = malloc((size_t)t->chunk_cap_blocks * t->blksize);
    posix_fadvise(t->file, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  if (!t->sent_at || (has_oack && !t->oack) || (has_fd && !t->chunk)) {
    if (t->data_ref) napi_delete_reference(env, t->data_ref);
    xfer_free(t);
    return throw_err(env, "start", ENOMEM);
  }
  t->min_rto = (uint64_t)(min_t * 1000);
  t->max_rto = (uint64_t)(max_t * 1000);
  if (t->min_rto > t->max_rto) t->min_rto = t->max_rto;
  t->rto = (uint64_t)(timeout * 1000);
  if (t->rto < t->min_rto) t->rto = t->min_rto;
  if (t->rto > t->max_rto) t->rto = t->max_rto;
  t->give_up = (uint64_t)(give_up * 1000);
  /* Least loaded worker. */
  int best = 0;
  for (int i = 1; i < e->nworkers; i++)
    if (atomic_load(&e->w[i].load) < atomic_load(&e->w[best].load)) best = i;
  cmd *c = calloc(1, sizeof *c);
  if (!c) {
    if (t->data_ref) napi_delete_reference(env, t->data_ref);
    xfer_free(t);
    return throw_err(env, "start", ENOMEM);
  }
  c->type = CMD_START;
  c->t = t;
  atomic_fetch_add(&e->w[best].load, 1);
  post(&e->w[best], c);
  napi_value out;
  napi_create_int32(env, best, &out);
  return out;
}

static napi_value js_abort(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine *e = argc >= 4 ? get_engine(env, argv[0]) : NULL;
  if (!e) return NULL;
  int32_t wi;
  double id;
  if (napi_get_value_int32(env, argv[1], &wi) != napi_ok || wi < 0 || wi >= e->nworkers || napi_get_value_double(env, argv[2], &id) != napi_ok) {
    napi_throw_type_error(env, NULL, "abort(engine, worker, id, reason)");
    return NULL;
  }
  if (e->closed) return NULL;
  cmd *c = calloc(1, sizeof *c);
  if (!c) return throw_err(env, "abort", ENOMEM);
  c->type = CMD_ABORT;
  c->id = id;
  size_t len;
  if (napi_get_value_string_utf8(env, argv[3], c->reason, sizeof c->reason, &len) != napi_ok) snprintf(c->reason, sizeof c->reason, "aborted");
  post(&e->w[wi], c);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  engine *e = argc >= 1 ? get_engine(env, argv[0]) : NULL;
  if (!e || e->closed) return NULL;
  napi_remove_env_cleanup_hook(env, env_cleanup, e);
  stop_workers(e);
  /* Results queued by the workers are still delivered, then the function is finalized. */
  napi_release_threadsafe_function(e->tsfn, napi_tsfn_release);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    {"create", NULL, js_create, NULL, NULL, NULL, napi_enumerable, NULL},
    {"start", NULL, js_start, NULL, NULL, NULL, napi_enumerable, NULL},
    {"abort", NULL, js_abort, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
