;; WASI preview1 command: _start prints "hello from wasi\n" to stdout and returns;
;; exit_with(code) prints "exiting\n" and then calls proc_exit(code).
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit"
    (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; layout: [0..8) iovec {ptr,len}, [8..12) nwritten, strings from 16 on
  (data (i32.const 16) "hello from wasi\n")
  (data (i32.const 48) "exiting\n")
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    ;; fd 1, one iovec at address 0, nwritten written to address 8
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (call $print (i32.const 16) (i32.const 16)))
  (func (export "exit_with") (param $code i32)
    (call $print (i32.const 48) (i32.const 8))
    (call $proc_exit (local.get $code))
    unreachable))
