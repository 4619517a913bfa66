;; tlr-lanczos3's two passes in WebAssembly SIMD (resize.ts holds the definition, lays out memory and
;; builds the integer taps; this file only sums), and normalize.ts's preprocessing after them.
;; `npm run wasm` assembles it into resize-wasm.ts.
;;
;; Both passes add the same whole numbers as the definition, in another order: integer sums do not
;; depend on it, so the bytes are the definition's exactly (test/runtime/resize.test.ts).
;; The caller pads every buffer by 16 bytes: loads read up to 16 bytes from a tap, stores write 8.
(module
  (memory (export "memory") 1)

  ;; across: `rows` rows of RGB bytes at `src` (`srcStride` bytes apart), each resampled to `outW`
  ;; pixels of three i16 (`dst`, `dstStride` bytes apart), rounded ((sum + 2^13) >> 14), not clamped.
  ;; `taps` holds 3 i32 per output pixel: the first tap's byte offset in the row, the number of tap
  ;; pairs (at least 1), and the byte offset of its pair vectors: i16 (w0 w1 w0 w1 w0 w1 0 0).
  ;; One pair is one dot product: two pixels' bytes spread to (r0 r1 g0 g1 b0 b1 0 0) by a swizzle.
  (func (export "across")
    (param $src i32) (param $srcStride i32) (param $rows i32) (param $dst i32) (param $dstStride i32)
    (param $outW i32) (param $taps i32)
    (local $y i32) (local $x i32) (local $t i32) (local $p i32) (local $wp i32) (local $n i32) (local $d i32)
    (local $acc v128) (local $v v128)
    (loop $row
      (local.set $x (i32.const 0))
      (local.set $t (local.get $taps))
      (local.set $d (local.get $dst))
      (loop $pixel
        (local.set $p (i32.add (local.get $src) (i32.load (local.get $t))))
        (local.set $n (i32.load offset=4 (local.get $t)))
        (local.set $wp (i32.load offset=8 (local.get $t)))
        (local.set $acc (v128.const i32x4 8192 8192 8192 8192))
        ;; Two pairs (four taps) from one 16-byte load while there are two left, then the last one.
        (block $pairs
          (br_if $pairs (i32.lt_u (local.get $n) (i32.const 2)))
          (loop $quad
            (local.set $v (v128.load (local.get $p)))
            (local.set $acc
              (i32x4.add
                (i32x4.add (local.get $acc)
                  (i32x4.dot_i16x8_s
                    (i8x16.swizzle (local.get $v)
                      (v128.const i8x16 0 255 3 255 1 255 4 255 2 255 5 255 255 255 255 255))
                    (v128.load (local.get $wp))))
                (i32x4.dot_i16x8_s
                  (i8x16.swizzle (local.get $v)
                    (v128.const i8x16 6 255 9 255 7 255 10 255 8 255 11 255 255 255 255 255))
                  (v128.load offset=16 (local.get $wp)))))
            (local.set $p (i32.add (local.get $p) (i32.const 12)))
            (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
            (br_if $quad (i32.ge_u (local.tee $n (i32.sub (local.get $n) (i32.const 2))) (i32.const 2)))))
        (if (local.get $n)
          (then
            (local.set $acc
              (i32x4.add (local.get $acc)
                (i32x4.dot_i16x8_s
                  (i8x16.swizzle (v128.load (local.get $p))
                    (v128.const i8x16 0 255 3 255 1 255 4 255 2 255 5 255 255 255 255 255))
                  (v128.load (local.get $wp)))))))
        ;; Four i16 (r g b 0) stored: the 0 lands where the next pixel's red goes, written next.
        (v128.store64_lane 0 (local.get $d)
          (i16x8.narrow_i32x4_s
            (i32x4.shr_s (local.get $acc) (i32.const 14)) (i32x4.shr_s (local.get $acc) (i32.const 14))))
        (local.set $d (i32.add (local.get $d) (i32.const 6)))
        (local.set $t (i32.add (local.get $t) (i32.const 12)))
        (br_if $pixel (i32.lt_u (local.tee $x (i32.add (local.get $x) (i32.const 1))) (local.get $outW))))
      (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
      (br_if $row (i32.lt_u (local.tee $y (i32.add (local.get $y) (i32.const 1))) (local.get $rows)))))

  ;; down: `outH` rows of bytes at `dst` (`dstStride` apart), each a weighted sum of rows of i16 at
  ;; `mid` (`midStride` apart), taken 8 values at a time over `groups` groups, rounded and clamped to
  ;; 0..255 (the narrowing saturates). `taps` holds 3 i32 per output row: the first tap row's byte
  ;; offset, the number of taps (at least 1), and the byte offset of their weights, one i16x8 splat each.
  (func (export "down")
    (param $mid i32) (param $midStride i32) (param $outH i32) (param $groups i32) (param $dst i32)
    (param $dstStride i32) (param $taps i32)
    (local $y i32) (local $c i32) (local $k i32) (local $p i32) (local $wp i32) (local $row i32) (local $n i32)
    (local $w0 i32) (local $d i32) (local $lo v128) (local $hi v128) (local $v v128) (local $w v128)
    (loop $out
      (local.set $row (i32.add (local.get $mid) (i32.load (local.get $taps))))
      (local.set $n (i32.load offset=4 (local.get $taps)))
      (local.set $w0 (i32.load offset=8 (local.get $taps)))
      (local.set $c (i32.const 0))
      (local.set $d (local.get $dst))
      (loop $group
        (local.set $lo (v128.const i32x4 8192 8192 8192 8192))
        (local.set $hi (v128.const i32x4 8192 8192 8192 8192))
        (local.set $p (local.get $row))
        (local.set $wp (local.get $w0))
        (local.set $k (local.get $n))
        (loop $tap
          (local.set $v (v128.load (local.get $p)))
          (local.set $w (v128.load (local.get $wp)))
          (local.set $lo (i32x4.add (local.get $lo) (i32x4.extmul_low_i16x8_s (local.get $v) (local.get $w))))
          (local.set $hi (i32x4.add (local.get $hi) (i32x4.extmul_high_i16x8_s (local.get $v) (local.get $w))))
          (local.set $p (i32.add (local.get $p) (local.get $midStride)))
          (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
          (br_if $tap (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
        (v128.store64_lane 0 (local.get $d)
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s
              (i32x4.shr_s (local.get $lo) (i32.const 14)) (i32x4.shr_s (local.get $hi) (i32.const 14)))
            (v128.const i32x4 0 0 0 0)))
        (local.set $row (i32.add (local.get $row) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 8)))
        (br_if $group (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $groups))))
      (local.set $taps (i32.add (local.get $taps) (i32.const 12)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
      (br_if $out (i32.lt_u (local.tee $y (i32.add (local.get $y) (i32.const 1))) (local.get $outH)))))

  ;; normalize: `groups` groups of 12 bytes at `src` (4 RGB pixels; the last group may run past the
  ;; image into padding, whose values the caller drops) to 12 f32 each at `dst`: v * scale - offset,
  ;; computed in f64 and rounded to f32 once, as normalize() in JavaScript does (the same floats).
  ;; `k` holds 12 f64x2: the scales of values (0 1) (2 3) … (10 11) of a group, then their offsets
  ;; (channel i mod 3 of value i).
  (func (export "normalize") (param $src i32) (param $groups i32) (param $dst i32) (param $k i32)
    (local $v v128) (local $w v128)
    (loop $group
      (local.set $v (v128.load (local.get $src)))
      (local.set $w (i16x8.extend_low_i8x16_u (local.get $v)))
      (v128.store (local.get $dst)
        (call $four (i32x4.extend_low_i16x8_u (local.get $w)) (local.get $k)))
      (v128.store offset=16 (local.get $dst)
        (call $four (i32x4.extend_high_i16x8_u (local.get $w)) (i32.add (local.get $k) (i32.const 32))))
      (v128.store offset=32 (local.get $dst)
        (call $four
          (i32x4.extend_low_i16x8_u (i16x8.extend_high_i8x16_u (local.get $v)))
          (i32.add (local.get $k) (i32.const 64))))
      (local.set $src (i32.add (local.get $src) (i32.const 12)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 48)))
      (br_if $group (local.tee $groups (i32.sub (local.get $groups) (i32.const 1))))))

  ;; Four whole numbers (i32x4) to f32x4: (v * scale - offset) in f64, two lanes at a time, with the
  ;; scales at `k` and `k + 16`, the offsets 96 bytes on.
  (func $four (param $q v128) (param $k i32) (result v128)
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero
        (f64x2.sub
          (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $q)) (v128.load (local.get $k)))
          (v128.load offset=96 (local.get $k))))
      (f32x4.demote_f64x2_zero
        (f64x2.sub
          (f64x2.mul
            (f64x2.convert_low_i32x4_u
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q) (local.get $q)))
            (v128.load offset=16 (local.get $k)))
          (v128.load offset=112 (local.get $k)))))))
