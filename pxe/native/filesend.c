/*
 * netroot_filesend: HTTP boot file bodies sent by native sender threads, off the JavaScript thread.
 *
 * Why: a Node stream reads every byte into a Buffer and writes it out again, waking JavaScript for
 * every chunk: 0.5x nginx for 100 parallel 60 MB initramfs downloads.
 *
 * How, chosen by measurement (bench/README.md, "HTTP boot bodies"): sender threads move the bytes
 * with sendfile(2), from the page cache to the socket without a copy, as nginx does. An earlier
 * version sent by send() from a shared read-only mapping of the file. In the 500-node boot storm
 * sendfile(2) finished 4-9 % sooner with 12-17 % less CPU and no 60 MB mapping per file, and with
 * a slower client the mapping way twice fell into a storm of TCP retransmissions (up to 631,000
 * segments resent, nodes 38-102 s late) where sendfile(2) never did. One sender thread per core
 * (the caller's choice): a sender also does the kernel's TCP work for what it sends.
 *
 *   init(onDone, threads, chunkBytes)      start `threads` sender threads (each its own epoll);
 *                                          onDone(id, errno, bytesSent) is called on the JS thread
 *                                          when a transfer ends (errno 0 = all bytes sent).
 *   start(sockFd, fileFd, offset, length) -> id. Sends length bytes of fileFd from offset to the
 *                                          connected socket sockFd. Both fds are dup'ed: the caller
 *                                          may close its own at once, and the socket cannot be
 *                                          closed (and its number reused) under a sender thread.
 *   cancel(id)                             ends a transfer early (the client went away); onDone
 *                                          still comes, with ECANCELED, unless it already ended.
 *
 * The socket stays non-blocking (it is libuv's; O_NONBLOCK is shared with the dup): a sender sends
 * at most chunkBytes per wake-up and otherwise waits for EPOLLOUT in its own epoll set
 * (level-triggered), so a slow client costs nothing and 100 fast ones share a thread fairly. The
 * caller must write nothing to the socket while a transfer runs (the HTTP headers go before,
 * through Node) and reads as it likes: the sender never reads.
 *
 * A file cut short while served ends the transfer with EIO (sendfile(2) returns 0 before the end):
 * the caller must then close the connection, as Content-Length promised more. A file replaced by
 * rename is no concern: the descriptor keeps the old one.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_THREADS 16

typedef struct transfer {
  struct transfer *prev, *next; /* in its sender's list, touched by that thread only */
  uint32_t id;
  int sock, file;
  off_t off, end;
  double sent;
} transfer;

enum { CMD_ADD, CMD_CANCEL, CMD_STOP };

typedef struct command {
  struct command *next;
  int kind;
  uint32_t id;
  transfer *t; /* CMD_ADD */
} command;

typedef struct sender {
  pthread_t thread;
  int ep, wake; /* epoll set and the eventfd that says "commands waiting" */
  pthread_mutex_t mu;
  command *head, *tail; /* from the JS thread, under mu */
  transfer *list;
  size_t chunk;
  napi_threadsafe_function done;
} sender;

typedef struct pump {
  sender senders[MAX_THREADS];
  int n;
  uint32_t next_id; /* JS thread only */
  napi_threadsafe_function done;
} pump;

typedef struct done_msg {
  uint32_t id;
  int err;
  double sent;
} done_msg;

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void post(sender *s, command *c) {
  pthread_mutex_lock(&s->mu);
  if (s->tail) s->tail->next = c;
  else s->head = c;
  s->tail = c;
  pthread_mutex_unlock(&s->mu);
  uint64_t one = 1;
  while (write(s->wake, &one, sizeof one) < 0 && errno == EINTR) {}
}

static void free_transfer(transfer *t) {
  close(t->sock);
  close(t->file);
  free(t);
}

static void finish(sender *s, transfer *t, int err) {
  epoll_ctl(s->ep, EPOLL_CTL_DEL, t->sock, NULL);
  if (t->prev) t->prev->next = t->next;
  else s->list = t->next;
  if (t->next) t->next->prev = t->prev;
  done_msg *m = malloc(sizeof *m);
  if (m) {
    m->id = t->id;
    m->err = err;
    m->sent = t->sent;
  }
  free_transfer(t);
  if (m && napi_call_threadsafe_function(s->done, m, napi_tsfn_nonblocking) != napi_ok) free(m);
}

/* One wake-up's worth: up to s->chunk bytes, fewer when the socket buffer is full. */
static void send_some(sender *s, transfer *t) {
  size_t budget = s->chunk;
  while (t->off < t->end && budget > 0) {
    size_t want = (size_t)(t->end - t->off);
    if (want > budget) want = budget;
    ssize_t n = sendfile(t->sock, t->file, &t->off, want);
    if (n > 0) {
      t->sent += (double)n;
      budget -= (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return; /* socket buffer full: EPOLLOUT brings us back */
    finish(s, t, n == 0 ? EIO : errno); /* 0: the file is shorter than it was */
    return;
  }
  if (t->off >= t->end) finish(s, t, 0);
}

/* Returns 1 when told to stop. */
static int take_commands(sender *s) {
  uint64_t v;
  while (read(s->wake, &v, sizeof v) < 0 && errno == EINTR) {}
  pthread_mutex_lock(&s->mu);
  command *c = s->head;
  s->head = s->tail = NULL;
  pthread_mutex_unlock(&s->mu);
  int stop = 0;
  while (c) {
    command *next = c->next;
    if (c->kind == CMD_ADD) {
      transfer *t = c->t;
      t->prev = NULL;
      t->next = s->list;
      if (s->list) s->list->prev = t;
      s->list = t;
      struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = t };
      if (epoll_ctl(s->ep, EPOLL_CTL_ADD, t->sock, &ev) < 0) finish(s, t, errno);
    } else if (c->kind == CMD_CANCEL) {
      for (transfer *t = s->list; t; t = t->next) {
        if (t->id == c->id) {
          finish(s, t, ECANCELED);
          break;
        }
      }
    } else {
      stop = 1;
    }
    free(c);
    c = next;
  }
  return stop;
}

static void *run(void *arg) {
  sender *s = arg;
  struct epoll_event evs[64];
  for (;;) {
    int n = epoll_wait(s->ep, evs, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    int commands = 0;
    /* Transfers first, commands after: a cancel must not free a transfer that a later event of
       this same batch points to. */
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr == NULL) commands = 1;
      else send_some(s, evs[i].data.ptr);
    }
    if (commands && take_commands(s)) break;
  }
  while (s->list) finish(s, s->list, ECANCELED);
  return NULL;
}

static void call_done(napi_env env, napi_value fn, void *context, void *data) {
  (void)context;
  done_msg *m = data;
  if (env && fn) {
    napi_value argv[3], undefined;
    napi_create_uint32(env, m->id, &argv[0]);
    napi_create_int32(env, m->err, &argv[1]);
    napi_create_double(env, m->sent, &argv[2]);
    napi_get_undefined(env, &undefined);
    napi_call_function(env, undefined, fn, 3, argv, NULL);
  }
  free(m);
}

static void stop_all(pump *p) {
  for (int i = 0; i < p->n; i++) {
    command *c = calloc(1, sizeof *c);
    if (!c) continue;
    c->kind = CMD_STOP;
    post(&p->senders[i], c);
  }
  for (int i = 0; i < p->n; i++) {
    sender *s = &p->senders[i];
    pthread_join(s->thread, NULL);
    for (command *c = s->head; c;) {
      command *next = c->next;
      if (c->kind == CMD_ADD) free_transfer(c->t);
      free(c);
      c = next;
    }
    close(s->ep);
    close(s->wake);
    pthread_mutex_destroy(&s->mu);
  }
  p->n = 0;
}

/* The environment goes away (process exit, worker thread end): stop the senders first, so none
   calls into a released function. */
static void cleanup(void *arg) {
  pump *p = arg;
  stop_all(p);
  if (p->done) napi_release_threadsafe_function(p->done, napi_tsfn_abort);
  free(p);
}

static pump *pump_of(napi_env env) {
  pump *p = NULL;
  napi_get_instance_data(env, (void **)&p);
  return p;
}

static napi_value init(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (pump_of(env)) {
    napi_throw_error(env, NULL, "init: already started");
    return NULL;
  }
  int32_t threads = 0, chunk = 0;
  napi_valuetype fn_type = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &fn_type);
  if (argc < 3 || fn_type != napi_function || napi_get_value_int32(env, argv[1], &threads) != napi_ok ||
      napi_get_value_int32(env, argv[2], &chunk) != napi_ok || threads < 1 || threads > MAX_THREADS || chunk < 4096) {
    napi_throw_type_error(env, NULL, "init(onDone, threads 1..16, chunkBytes >= 4096)");
    return NULL;
  }
  pump *p = calloc(1, sizeof *p);
  if (!p) return throw_errno(env, "init", ENOMEM);
  napi_value name;
  napi_create_string_utf8(env, "netroot_filesend", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[0], NULL, name, 0, 1, NULL, NULL, NULL, call_done, &p->done) != napi_ok) {
    free(p);
    napi_throw_error(env, NULL, "init: cannot create the completion callback");
    return NULL;
  }
  /* Transfers run on sockets, which keep the loop alive themselves. */
  napi_unref_threadsafe_function(env, p->done);
  for (int i = 0; i < threads; i++) {
    sender *s = &p->senders[i];
    s->chunk = (size_t)chunk;
    s->done = p->done;
    pthread_mutex_init(&s->mu, NULL);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    int err = 0;
    if (s->ep < 0 || s->wake < 0) err = errno;
    else if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wake, &ev) < 0) err = errno;
    else err = pthread_create(&s->thread, NULL, run, s);
    if (err) {
      if (s->ep >= 0) close(s->ep);
      if (s->wake >= 0) close(s->wake);
      pthread_mutex_destroy(&s->mu);
      cleanup(p);
      return throw_errno(env, "init: sender thread", err);
    }
    p->n = i + 1;
  }
  napi_set_instance_data(env, p, NULL, NULL);
  napi_add_env_cleanup_hook(env, cleanup, p);
  return NULL;
}

static int get_number(napi_env env, napi_value v, double *out, double max, const char *name) {
  if (napi_get_value_double(env, v, out) != napi_ok || *out < 0 || *out > max || *out != (double)(int64_t)*out) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: expected an integer from 0 to %.0f", name, max);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  return 0;
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  pump *p = pump_of(env);
  if (!p) {
    napi_throw_error(env, NULL, "start: init() first");
    return NULL;
  }
  double sock, file, off, len;
  if (argc < 4 || get_number(env, argv[0], &sock, INT32_MAX, "sockFd") || get_number(env, argv[1], &file, INT32_MAX, "fileFd") ||
      get_number(env, argv[2], &off, 9007199254740991.0, "offset") || get_number(env, argv[3], &len, 9007199254740991.0, "length")) return NULL;
  transfer *t = calloc(1, sizeof *t);
  command *c = calloc(1, sizeof *c);
  if (!t || !c) {
    free(t);
    free(c);
    return throw_errno(env, "start", ENOMEM);
  }
  t->sock = fcntl((int)sock, F_DUPFD_CLOEXEC, 0);
  if (t->sock < 0) {
    int e = errno;
    free(t);
    free(c);
    return throw_errno(env, "start: dup(sockFd)", e);
  }
  t->file = fcntl((int)file, F_DUPFD_CLOEXEC, 0);
  if (t->file < 0) {
    int e = errno;
    close(t->sock);
    free(t);
    free(c);
    return throw_errno(env, "start: dup(fileFd)", e);
  }
  t->id = ++p->next_id;
  if (t->id == 0) t->id = ++p->next_id;
  t->off = (off_t)off;
  t->end = (off_t)(off + len);
  c->kind = CMD_ADD;
  c->t = t;
  c->id = t->id;
  post(&p->senders[t->id % (uint32_t)p->n], c);
  napi_value out;
  napi_create_uint32(env, t->id, &out);
  return out;
}

static napi_value cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  pump *p = pump_of(env);
  uint32_t id;
  if (!p || argc < 1 || napi_get_value_uint32(env, argv[0], &id) != napi_ok) return NULL;
  command *c = calloc(1, sizeof *c);
  if (!c) return throw_errno(env, "cancel", ENOMEM);
  c->kind = CMD_CANCEL;
  c->id = id;
  post(&p->senders[id % (uint32_t)p->n], c);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    { "init", NULL, init, NULL, NULL, NULL, napi_enumerable, NULL },
    { "start", NULL, start, NULL, NULL, NULL, napi_enumerable, NULL },
    { "cancel", NULL, cancel, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
