{
  "targets": [
    {
      "target_name": "memmap",
      "sources": ["src-native/binding.cc", "src-native/kernels.cc", "src-native/regions.cc", "src-native/threads.cc", "src-native/reduce.cc", "src-native/chunked.cc", "src-native/chunk_copy.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=<!(node -p \"require('./package.json').binary.napi_versions[0]\")",
        "NAPI_CPP_EXCEPTIONS",
        "_FILE_OFFSET_BITS=64"
      ],
      "cflags!": ["-fno-exceptions", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": [
        "-std=c++17",
        "-fexceptions",
        "-fno-rtti",
        "-fvisibility=hidden",
        "-Wall",
        "-Wextra",
        "<!@(node -p \"process.env.MEMMAP_WERROR === '1' ? '-Werror' : ''\")"
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "GCC_ENABLE_CPP_RTTI": "NO",
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0",
        "OTHER_CFLAGS": ["-Wall", "-Wextra"]
      },
      "conditions": [
        ["OS!='win'", { "sources": ["src-native/mapping_posix.cc"] }],
        ["OS=='win'", { "sources": ["src-native/mapping_win.cc"] }]
      ]
    }
  ]
}
