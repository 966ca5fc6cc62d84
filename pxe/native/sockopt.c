/*
 * netroot_sockopt: the few Linux socket calls Node's dgram lacks, for the DHCP server, and one
 * scheduling call Node lacks.
 *
 *   openUdp4(ifname, port) -> fd   UDP socket bound to 0.0.0.0:port that only sees and sends on
 *                                  ifname (SO_BINDTODEVICE, set BEFORE bind so no packet from another
 *                                  interface is ever queued), with SO_REUSEADDR and SO_BROADCAST.
 *                                  Hand the fd to dgram: socket.bind({ fd }).
 *   bindToDevice(fd, ifname)       SO_BINDTODEVICE on an existing socket.
 *   setArp(fd, ifname, ip, mac)    permanent-less ARP entry (SIOCSARP), so a reply can be unicast to
 *                                  a client that has no address yet (RFC 2131 4.1), as dnsmasq does.
 *   setRecvBuffer(fd, bytes) -> n  receive buffer of at least `bytes`: SO_RCVBUFFORCE (CAP_NET_ADMIN,
 *                                  past net.core.rmem_max), else SO_RCVBUF (capped by rmem_max).
 *                                  Returns what the kernel reports (SO_RCVBUF, i.e. twice the request).
 *   idleThread()                   puts the calling thread (not the process) in SCHED_IDLE: it runs
 *                                  on CPU time no other thread wants, and a waking thread of normal
 *                                  policy preempts it at once.
 *
 * Errors throw with the call and errno text, e.g. "setsockopt(SO_BINDTODEVICE, va0): No such device".
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static napi_value fail(napi_env env, const char *what, const char *arg, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s(%s): %s", what, arg ? arg : "", strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t size, const char *name) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok || len == 0 || len >= size - 1) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s: expected a non-empty string shorter than %zu bytes", name, size - 1);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  return 0;
}

static int get_int(napi_env env, napi_value v, int32_t *out, const char *name) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s: expected an integer", name);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  return 0;
}

static napi_value open_udp4(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char ifname[IFNAMSIZ + 1];
  int32_t port;
  if (argc < 2 || get_string(env, argv[0], ifname, sizeof ifname, "ifname") || get_int(env, argv[1], &port, "port")) return NULL;
  if (port < 0 || port > 65535) return fail(env, "port", "range", ERANGE);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(env, "socket", "AF_INET", errno);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) { int e = errno; close(fd); return fail(env, "setsockopt", "SO_REUSEADDR", e); }
  if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) { int e = errno; close(fd); return fail(env, "setsockopt", "SO_BROADCAST", e); }
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname) + 1) < 0) { int e = errno; close(fd); return fail(env, "setsockopt(SO_BINDTODEVICE)", ifname, e); }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { int e = errno; close(fd); return fail(env, "bind", ifname, e); }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

static napi_value bind_to_device(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  char ifname[IFNAMSIZ + 1];
  if (argc < 2 || get_int(env, argv[0], &fd, "fd") || get_string(env, argv[1], ifname, sizeof ifname, "ifname")) return NULL;
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname) + 1) < 0) return fail(env, "setsockopt(SO_BINDTODEVICE)", ifname, errno);
  return NULL;
}

static napi_value set_arp(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  char ifname[IFNAMSIZ + 1], ip[32], mac[32];
  if (argc < 4 || get_int(env, argv[0], &fd, "fd") || get_string(env, argv[1], ifname, sizeof ifname, "ifname") ||
      get_string(env, argv[2], ip, sizeof ip, "ip") || get_string(env, argv[3], mac, sizeof mac, "mac")) return NULL;
  struct arpreq req;
  memset(&req, 0, sizeof req);
  struct sockaddr_in *pa = (struct sockaddr_in *)&req.arp_pa;
  pa->sin_family = AF_INET;
  if (inet_pton(AF_INET, ip, &pa->sin_addr) != 1) return fail(env, "inet_pton", ip, EINVAL);
  unsigned int b[6];
  if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) return fail(env, "mac", mac, EINVAL);
  req.arp_ha.sa_family = ARPHRD_ETHER;
  for (int i = 0; i < 6; i++) req.arp_ha.sa_data[i] = (char)b[i];
  req.arp_flags = ATF_COM;
  strncpy(req.arp_dev, ifname, sizeof req.arp_dev - 1);
  if (ioctl(fd, SIOCSARP, &req) < 0) return fail(env, "ioctl(SIOCSARP)", ip, errno);
  return NULL;
}

static napi_value set_recv_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, bytes;
  if (argc < 2 || get_int(env, argv[0], &fd, "fd") || get_int(env, argv[1], &bytes, "bytes")) return NULL;
  if (bytes < 1024) return fail(env, "setRecvBuffer", "bytes < 1024", EINVAL);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0) {
    int e = errno;
    if (e != EPERM || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) < 0) return fail(env, "setsockopt(SO_RCVBUF)", NULL, e == EPERM ? errno : e);
  }
  int got = 0;
  socklen_t len = sizeof got;
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0) return fail(env, "getsockopt(SO_RCVBUF)", NULL, errno);
  napi_value out;
  napi_create_int32(env, got, &out);
  return out;
}

static napi_value idle_thread(napi_env env, napi_callback_info info) {
  (void)info;
  struct sched_param p = {.sched_priority = 0};
  // pid 0: the calling thread (Linux schedules threads, not processes).
  if (sched_setscheduler(0, SCHED_IDLE, &p) < 0) return fail(env, "sched_setscheduler", "SCHED_IDLE", errno);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    { "openUdp4", NULL, open_udp4, NULL, NULL, NULL, napi_enumerable, NULL },
    { "bindToDevice", NULL, bind_to_device, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setArp", NULL, set_arp, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setRecvBuffer", NULL, set_recv_buffer, NULL, NULL, NULL, napi_enumerable, NULL },
    { "idleThread", NULL, idle_thread, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
