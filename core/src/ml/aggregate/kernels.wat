;; Hot loops of Canopy's streaming aggregators (see arithmetic.ts for the arithmetic they
;; must reproduce bit for bit). Hand-written so that every operation is an IEEE-754 binary32
;; op with round-to-nearest-even in a fixed order: f32x4.mul then f32x4.add, never a fused
;; multiply-add (relaxed SIMD would let engines pick FMA or not, and the bits would differ).
;;
;; The memory is imported and shared so that Float32Array views handed out by the arena
;; stay valid when it grows (growing a shared memory never detaches its buffer).
;; Regenerate kernelsWasm.ts after editing: node core/src/ml/aggregate/buildKernels.mjs
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; dst[i] = src[i] + w * x[i] for i < n, as f32 (round after the product, round after the
  ;; sum). dst may equal src (in place); no other overlap is allowed. Returns 1 when some
  ;; result is NaN or ±Infinity (x held one, or the sum overflowed), else 0.
  (func (export "axpy") (param $dst i32) (param $src i32) (param $x i32) (param $n i32) (param $w f32) (result i32)
    (local $wv v128) (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $bad v128) (local $end i32) (local $s f32) (local $badTail i32)
    (local.set $wv (f32x4.splat (local.get $w)))
    ;; end of the 16-float blocks, as a dst address
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $a (f32x4.add (v128.load offset=0 (local.get $src)) (f32x4.mul (v128.load offset=0 (local.get $x)) (local.get $wv))))
        (local.set $b (f32x4.add (v128.load offset=16 (local.get $src)) (f32x4.mul (v128.load offset=16 (local.get $x)) (local.get $wv))))
        (local.set $c (f32x4.add (v128.load offset=32 (local.get $src)) (f32x4.mul (v128.load offset=32 (local.get $x)) (local.get $wv))))
        (local.set $d (f32x4.add (v128.load offset=48 (local.get $src)) (f32x4.mul (v128.load offset=48 (local.get $x)) (local.get $wv))))
        ;; a - a is +0 (all bits clear) for every finite a and NaN (some bit set) otherwise,
        ;; so OR-ing the differences flags a non-finite result in two cheap ops per vector.
        (local.set $bad (v128.or (local.get $bad)
          (v128.or
            (v128.or (f32x4.sub (local.get $a) (local.get $a)) (f32x4.sub (local.get $b) (local.get $b)))
            (v128.or (f32x4.sub (local.get $c) (local.get $c)) (f32x4.sub (local.get $d) (local.get $d))))))
        (v128.store offset=0 (local.get $dst) (local.get $a))
        (v128.store offset=16 (local.get $dst) (local.get $b))
        (v128.store offset=32 (local.get $dst) (local.get $c))
        (v128.store offset=48 (local.get $dst) (local.get $d))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (local.set $src (i32.add (local.get $src) (i32.const 64)))
        (local.set $x (i32.add (local.get $x) (i32.const 64)))
        (br $blocks)))
    ;; the n mod 16 tail, one lane at a time with the same two rounded ops
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const 15)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $s (f32.add (f32.load (local.get $src)) (f32.mul (f32.load (local.get $x)) (local.get $w))))
        (local.set $badTail (i32.or (local.get $badTail) (f32.ne (f32.sub (local.get $s) (local.get $s)) (f32.const 0))))
        (f32.store (local.get $dst) (local.get $s))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $tail)))
    (i32.or (v128.any_true (local.get $bad)) (local.get $badTail)))

  ;; dst[i] = (((src[i] + w0·x0[i]) + w1·x1[i]) + …) + w7·x7[i] for i < n: eight inputs in one
  ;; sweep over the accumulator, each product and each sum rounded to f32, the inputs added in
  ;; the order given (ascending memberId). Every lane sees exactly the ops of eight axpy calls
  ;; in a row, so the bits are the same; the accumulator is read and written once instead of
  ;; eight times. dst may equal src; no other overlap. Returns 1 when some final result is NaN
  ;; or ±Infinity. Checking only the final values is enough: once a lane's partial sum is not
  ;; finite, adding more f32 values never makes it finite again (∞ + finite = ∞, ∞ − ∞ = NaN,
  ;; NaN + anything = NaN), so a non-finite partial sum always shows in the final one.
  (func (export "axpy8") (param $dst i32) (param $src i32) (param $x0 i32) (param $x1 i32) (param $x2 i32) (param $x3 i32) (param $x4 i32) (param $x5 i32) (param $x6 i32) (param $x7 i32) (param $n i32) (param $w0 f32) (param $w1 f32) (param $w2 f32) (param $w3 f32) (param $w4 f32) (param $w5 f32) (param $w6 f32) (param $w7 f32) (result i32)
    (local $wv0 v128) (local $wv1 v128) (local $wv2 v128) (local $wv3 v128) (local $wv4 v128) (local $wv5 v128) (local $wv6 v128) (local $wv7 v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $bad v128) (local $end i32) (local $s f32) (local $badTail i32)
    (local.set $wv0 (f32x4.splat (local.get $w0)))
    (local.set $wv1 (f32x4.splat (local.get $w1)))
    (local.set $wv2 (f32x4.splat (local.get $w2)))
    (local.set $wv3 (f32x4.splat (local.get $w3)))
    (local.set $wv4 (f32x4.splat (local.get $w4)))
    (local.set $wv5 (f32x4.splat (local.get $w5)))
    (local.set $wv6 (f32x4.splat (local.get $w6)))
    (local.set $wv7 (f32x4.splat (local.get $w7)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $a (v128.load offset=0 (local.get $src)))
        (local.set $b (v128.load offset=16 (local.get $src)))
        (local.set $c (v128.load offset=32 (local.get $src)))
        (local.set $d (v128.load offset=48 (local.get $src)))
        ;; inputs in member order within each lane: the same ops as k single passes
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x0)) (local.get $wv0))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x0)) (local.get $wv0))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x0)) (local.get $wv0))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x0)) (local.get $wv0))))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x1)) (local.get $wv1))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x1)) (local.get $wv1))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x1)) (local.get $wv1))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x1)) (local.get $wv1))))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x2)) (local.get $wv2))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x2)) (local.get $wv2))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x2)) (local.get $wv2))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x2)) (local.get $wv2))))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x3)) (local.get $wv3))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x3)) (local.get $wv3))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x3)) (local.get $wv3))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x3)) (local.get $wv3))))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x4)) (local.get $wv4))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x4)) (local.get $wv4))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x4)) (local.get $wv4))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x4)) (local.get $wv4))))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x5)) (local.get $wv5))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x5)) (local.get $wv5))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x5)) (local.get $wv5))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x5)) (local.get $wv5))))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x6)) (local.get $wv6))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x6)) (local.get $wv6))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x6)) (local.get $wv6))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x6)) (local.get $wv6))))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x7)) (local.get $wv7))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x7)) (local.get $wv7))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x7)) (local.get $wv7))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x7)) (local.get $wv7))))
        (local.set $bad (v128.or (local.get $bad)
          (v128.or
            (v128.or (f32x4.sub (local.get $a) (local.get $a)) (f32x4.sub (local.get $b) (local.get $b)))
            (v128.or (f32x4.sub (local.get $c) (local.get $c)) (f32x4.sub (local.get $d) (local.get $d))))))
        (v128.store offset=0 (local.get $dst) (local.get $a))
        (v128.store offset=16 (local.get $dst) (local.get $b))
        (v128.store offset=32 (local.get $dst) (local.get $c))
        (v128.store offset=48 (local.get $dst) (local.get $d))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (local.set $src (i32.add (local.get $src) (i32.const 64)))
        (local.set $x0 (i32.add (local.get $x0) (i32.const 64)))
        (local.set $x1 (i32.add (local.get $x1) (i32.const 64)))
        (local.set $x2 (i32.add (local.get $x2) (i32.const 64)))
        (local.set $x3 (i32.add (local.get $x3) (i32.const 64)))
        (local.set $x4 (i32.add (local.get $x4) (i32.const 64)))
        (local.set $x5 (i32.add (local.get $x5) (i32.const 64)))
        (local.set $x6 (i32.add (local.get $x6) (i32.const 64)))
        (local.set $x7 (i32.add (local.get $x7) (i32.const 64)))
        (br $blocks)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const 15)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $s (f32.load (local.get $src)))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x0)) (local.get $w0))))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x1)) (local.get $w1))))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x2)) (local.get $w2))))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x3)) (local.get $w3))))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x4)) (local.get $w4))))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x5)) (local.get $w5))))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x6)) (local.get $w6))))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x7)) (local.get $w7))))
        (local.set $badTail (i32.or (local.get $badTail) (f32.ne (f32.sub (local.get $s) (local.get $s)) (f32.const 0))))
        (f32.store (local.get $dst) (local.get $s))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
        (local.set $x1 (i32.add (local.get $x1) (i32.const 4)))
        (local.set $x2 (i32.add (local.get $x2) (i32.const 4)))
        (local.set $x3 (i32.add (local.get $x3) (i32.const 4)))
        (local.set $x4 (i32.add (local.get $x4) (i32.const 4)))
        (local.set $x5 (i32.add (local.get $x5) (i32.const 4)))
        (local.set $x6 (i32.add (local.get $x6) (i32.const 4)))
        (local.set $x7 (i32.add (local.get $x7) (i32.const 4)))
        (br $tail)))
    (i32.or (v128.any_true (local.get $bad)) (local.get $badTail)))

  ;; axpy8 for four inputs (the remainder of a batch).
  (func (export "axpy4") (param $dst i32) (param $src i32) (param $x0 i32) (param $x1 i32) (param $x2 i32) (param $x3 i32) (param $n i32) (param $w0 f32) (param $w1 f32) (param $w2 f32) (param $w3 f32) (result i32)
    (local $wv0 v128) (local $wv1 v128) (local $wv2 v128) (local $wv3 v128)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $bad v128) (local $end i32) (local $s f32) (local $badTail i32)
    (local.set $wv0 (f32x4.splat (local.get $w0)))
    (local.set $wv1 (f32x4.splat (local.get $w1)))
    (local.set $wv2 (f32x4.splat (local.get $w2)))
    (local.set $wv3 (f32x4.splat (local.get $w3)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -16)) (i32.const 2))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $a (v128.load offset=0 (local.get $src)))
        (local.set $b (v128.load offset=16 (local.get $src)))
        (local.set $c (v128.load offset=32 (local.get $src)))
        (local.set $d (v128.load offset=48 (local.get $src)))
        ;; inputs in member order within each lane: the same ops as k single passes
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x0)) (local.get $wv0))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x0)) (local.get $wv0))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x0)) (local.get $wv0))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x0)) (local.get $wv0))))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x1)) (local.get $wv1))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x1)) (local.get $wv1))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x1)) (local.get $wv1))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x1)) (local.get $wv1))))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x2)) (local.get $wv2))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x2)) (local.get $wv2))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x2)) (local.get $wv2))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x2)) (local.get $wv2))))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load offset=0 (local.get $x3)) (local.get $wv3))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $x3)) (local.get $wv3))))
        (local.set $c (f32x4.add (local.get $c) (f32x4.mul (v128.load offset=32 (local.get $x3)) (local.get $wv3))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $x3)) (local.get $wv3))))
        (local.set $bad (v128.or (local.get $bad)
          (v128.or
            (v128.or (f32x4.sub (local.get $a) (local.get $a)) (f32x4.sub (local.get $b) (local.get $b)))
            (v128.or (f32x4.sub (local.get $c) (local.get $c)) (f32x4.sub (local.get $d) (local.get $d))))))
        (v128.store offset=0 (local.get $dst) (local.get $a))
        (v128.store offset=16 (local.get $dst) (local.get $b))
        (v128.store offset=32 (local.get $dst) (local.get $c))
        (v128.store offset=48 (local.get $dst) (local.get $d))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (local.set $src (i32.add (local.get $src) (i32.const 64)))
        (local.set $x0 (i32.add (local.get $x0) (i32.const 64)))
        (local.set $x1 (i32.add (local.get $x1) (i32.const 64)))
        (local.set $x2 (i32.add (local.get $x2) (i32.const 64)))
        (local.set $x3 (i32.add (local.get $x3) (i32.const 64)))
        (br $blocks)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const 15)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $s (f32.load (local.get $src)))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x0)) (local.get $w0))))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x1)) (local.get $w1))))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x2)) (local.get $w2))))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $x3)) (local.get $w3))))
        (local.set $badTail (i32.or (local.get $badTail) (f32.ne (f32.sub (local.get $s) (local.get $s)) (f32.const 0))))
        (f32.store (local.get $dst) (local.get $s))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
        (local.set $x1 (i32.add (local.get $x1) (i32.const 4)))
        (local.set $x2 (i32.add (local.get $x2) (i32.const 4)))
        (local.set $x3 (i32.add (local.get $x3) (i32.const 4)))
        (br $tail)))
    (i32.or (v128.any_true (local.get $bad)) (local.get $badTail)))

  ;; dst[i] = src[i] / d for i < n, as f32 division. dst may equal src.
  (func (export "divide") (param $dst i32) (param $src i32) (param $n i32) (param $d f32)
    (local $dv v128) (local $end i32)
    (local.set $dv (f32x4.splat (local.get $d)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $vectors
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (v128.store (local.get $dst) (f32x4.div (v128.load (local.get $src)) (local.get $dv)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $vectors)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $dst) (local.get $end)))
        (f32.store (local.get $dst) (f32.div (f32.load (local.get $src)) (local.get $d)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (br $tail))))
)
