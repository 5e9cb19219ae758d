;; Smallest useful module: a single exported i32 adder.
;; Used as the baseline "compile, instantiate, call" fixture.
(module
  (func $add (export "add") (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    i32.add))
