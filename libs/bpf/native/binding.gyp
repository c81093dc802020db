{
  "targets": [
    {
      "target_name": "tidewatch",
      "sources": [
        "src/addon.cc",
        "src/collector.cc",
        "src/errors.cc",
        "src/open.cc",
        "src/close.cc",
        "src/tc_attach.cc",
        "src/tc_filters.cc",
        "src/tracepoints.cc",
        "src/write_maps.cc",
        "src/read_counters.cc",
        "src/read_tables.cc",
        "src/drain_flows.cc",
        "src/hash_read.cc",
        "src/events.cc",
        "src/prog_stats.cc",
        "src/probe.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../src"
      ],
      "libraries": ["-lbpf", "-lelf", "-lz"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: an event batch delivered while Node
      # tears its environment down (a collector never closed, its poller still running
      # at exit) cannot reach JavaScript; without it node-addon-api rethrows a C++
      # Napi::Error out of the thread-safe function's callback and std::terminate aborts
      # the exiting process (seen once in leak.spec under valgrind).
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ]
    }
  ]
}
