{
  "targets": [
    {
      "target_name": "netroot_sockopt",
      "sources": ["sockopt.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "netroot_tftp",
      "sources": ["tftp.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "libraries": ["-lpthread", "-lm"]
    },
    {
      "target_name": "netroot_filesend",
      "sources": ["filesend.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "libraries": ["-lpthread"]
    }
  ]
}
