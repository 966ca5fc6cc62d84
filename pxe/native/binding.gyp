{
  "targets": [
    {
      "target_name": "netroot_sockopt",
      "sources": ["sockopt.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
