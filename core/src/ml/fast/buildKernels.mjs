// Generates the fast training path's WebAssembly kernels (kernels.wat) and assembles them into
// kernelsWasm.ts (the bytes as base64), so that runtime code needs no assembler. The matrix
// product's register tiles are written out by this script rather than by hand: one tile shape
// per function, each fully unrolled across its rows and vectors.
// Run after editing: node core/src/ml/fast/buildKernels.mjs
// kernels.test.ts fails when the committed .wat or bytes and this generator disagree.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { assembleKernels as assembleWat, kernelsModuleSource as aggregateModuleSource } from '../aggregate/buildKernels.mjs';

/**
 * One register tile of C = A·B: `rows` rows of C by `vecs` 4-float vectors of columns (vecs 0:
 * one scalar column). A(i, k) lives at a + i·sai + k·sak and B(k, j) at b + k·ldb + j (byte
 * strides); every C value sums its k terms in order k = 0, 1, … as f32 mul then f32 add, never
 * fused, so the result does not depend on the engine or the tile that computed it.
 */
function tile(rows, vecs) {
  const name = `$tile_${rows}_${vecs}`;
  const width = vecs === 0 ? 1 : vecs;
  const vt = vecs === 0 ? 'f32' : 'v128';
  const accs = [];
  for (let i = 0; i < rows; i++) for (let v = 0; v < width; v++) accs.push(`$r${i}_${v}`);
  const out = [];
  out.push(`  (func ${name} (param $a i32) (param $sai i32) (param $sak i32) (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32) (param $k i32) (param $acc i32) (param $bias i32) (param $relu i32)`);
  out.push(`    ${accs.map((r) => `(local ${r} ${vt})`).join(' ')}`);
  out.push(`    ${Array.from({ length: width }, (_, v) => `(local $b${v} ${vt})`).join(' ')} (local $s ${vt})`);
  out.push(`    ${Array.from({ length: rows }, (_, i) => `(local $p${i} i32)`).join(' ')}`);
  for (let i = 0; i < rows; i++) {
    out.push(`    (local.set $p${i} ${i === 0 ? '(local.get $a)' : `(i32.add (local.get $p${i - 1}) (local.get $sai))`})`);
  }
  out.push('    (block $done (loop $k');
  out.push('      (br_if $done (i32.eqz (local.get $k)))');
  for (let v = 0; v < width; v++) {
    out.push(vecs === 0 ? `      (local.set $b0 (f32.load (local.get $b)))` : `      (local.set $b${v} (v128.load offset=${16 * v} (local.get $b)))`);
  }
  for (let i = 0; i < rows; i++) {
    out.push(vecs === 0 ? `      (local.set $s (f32.load (local.get $p${i})))` : `      (local.set $s (v128.load32_splat (local.get $p${i})))`);
    for (let v = 0; v < width; v++) {
      const r = `$r${i}_${v}`;
      out.push(
        vecs === 0
          ? `      (local.set ${r} (f32.add (local.get ${r}) (f32.mul (local.get $s) (local.get $b${v}))))`
          : `      (local.set ${r} (f32x4.add (local.get ${r}) (f32x4.mul (local.get $s) (local.get $b${v}))))`,
      );
    }
    out.push(`      (local.set $p${i} (i32.add (local.get $p${i}) (local.get $sak)))`);
  }
  out.push('      (local.set $b (i32.add (local.get $b) (local.get $ldb)))');
  out.push('      (local.set $k (i32.sub (local.get $k) (i32.const 1)))');
  out.push('      (br $k)))');
  // The epilogue adds the old C (acc 1) or the bias row (acc 2) after the whole sum (C + Σ),
  // then clamps at 0 when relu is set; the same order for every tile.
  for (let i = 0; i < rows; i++) {
    for (let v = 0; v < width; v++) {
      const r = `$r${i}_${v}`;
      const load = vecs === 0 ? `(f32.load (local.get $c))` : `(v128.load offset=${16 * v} (local.get $c))`;
      const loadBias = vecs === 0 ? `(f32.load (local.get $bias))` : `(v128.load offset=${16 * v} (local.get $bias))`;
      const add = vecs === 0 ? 'f32.add' : 'f32x4.add';
      out.push(`    (if (i32.eq (local.get $acc) (i32.const 1)) (then (local.set ${r} (${add} ${load} (local.get ${r})))))`);
      out.push(`    (if (i32.eq (local.get $acc) (i32.const 2)) (then (local.set ${r} (${add} ${loadBias} (local.get ${r})))))`);
      // max(0, x) as "0 < x ? x : 0": NaN and −0 become +0, like the JS reference
      out.push(
        vecs === 0
          ? `    (if (local.get $relu) (then (local.set ${r} (select (local.get ${r}) (f32.const 0) (f32.lt (f32.const 0) (local.get ${r}))))))`
          : `    (if (local.get $relu) (then (local.set ${r} (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get ${r})))))`,
      );
      out.push(vecs === 0 ? `    (f32.store (local.get $c) (local.get ${r}))` : `    (v128.store offset=${16 * v} (local.get $c) (local.get ${r}))`);
    }
    out.push('    (local.set $c (i32.add (local.get $c) (local.get $ldc)))');
  }
  out.push('  )');
  return out.join('\n');
}


/**
 * The bulk tile on packed operands: 4 rows of an A panel ([k][4] floats) by an 8-column B
 * panel ([k][8] floats), k unrolled by 2. Same sums in the same order as tile(4, 2).
 */
function packedTile() {
  const accs = [];
  for (let i = 0; i < 4; i++) for (let v = 0; v < 2; v++) accs.push(`$r${i}_${v}`);
  const out = [];
  out.push('  (func $packed_4_2 (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $k i32) (param $acc i32) (param $bias i32) (param $relu i32)');
  out.push(`    ${accs.map((r) => `(local ${r} v128)`).join(' ')} (local $b0 v128) (local $b1 v128) (local $s v128)`);
  const step = (ao, bo) => {
    out.push(`      (local.set $b0 (v128.load offset=${bo} (local.get $b)))`);
    out.push(`      (local.set $b1 (v128.load offset=${bo + 16} (local.get $b)))`);
    for (let i = 0; i < 4; i++) {
      out.push(`      (local.set $s (v128.load32_splat offset=${ao + 4 * i} (local.get $a)))`);
      for (let v = 0; v < 2; v++) out.push(`      (local.set $r${i}_${v} (f32x4.add (local.get $r${i}_${v}) (f32x4.mul (local.get $s) (local.get $b${v}))))`);
    }
  };
  out.push('    (block $done (loop $k2');
  out.push('      (br_if $done (i32.lt_u (local.get $k) (i32.const 2)))');
  step(0, 0);
  step(16, 32);
  out.push('      (local.set $a (i32.add (local.get $a) (i32.const 32)))');
  out.push('      (local.set $b (i32.add (local.get $b) (i32.const 64)))');
  out.push('      (local.set $k (i32.sub (local.get $k) (i32.const 2)))');
  out.push('      (br $k2)))');
  out.push('    (if (local.get $k) (then');
  step(0, 0);
  out.push('    ))');
  for (let i = 0; i < 4; i++) {
    for (let v = 0; v < 2; v++) {
      const r = `$r${i}_${v}`;
      out.push(`    (if (i32.eq (local.get $acc) (i32.const 1)) (then (local.set ${r} (f32x4.add (v128.load offset=${16 * v} (local.get $c)) (local.get ${r})))))`);
      out.push(`    (if (i32.eq (local.get $acc) (i32.const 2)) (then (local.set ${r} (f32x4.add (v128.load offset=${16 * v} (local.get $bias)) (local.get ${r})))))`);
      out.push(`    (if (local.get $relu) (then (local.set ${r} (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get ${r})))))`);
      out.push(`    (v128.store offset=${16 * v} (local.get $c) (local.get ${r}))`);
    }
    out.push('    (local.set $c (i32.add (local.get $c) (local.get $ldc)))');
  }
  out.push('  )');
  return out.join('\n');
}

// Tile shapes: 4 rows × 8 columns for the bulk (8 accumulators, 2 B vectors and a splat fit the
// 16 vector registers of x86-64), narrower and shorter ones for the edges.

function gemm() {
  // The product runs on packed copies: A as 4-row panels ([k][4] floats each, rows past m
  // zero) and each 8-column strip of B as a [k][8] panel, so that every tile reads both
  // operands sequentially whatever the caller's strides (a transposed operand, a strip of
  // a 3136×512 matrix whose rows are 2 KB apart). Column strips outside, row panels inside:
  // one B panel is reused by every row panel while it is in cache.
  const tileCall = (name, a, sai, sak, b, ldb, c) =>
    `(call ${name} ${a} ${sai} ${sak} ${b} ${ldb} ${c} (local.get $ldc4) (local.get $k) (local.get $acc) (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))) (local.get $relu))`;
  const aPanel = '(i32.add (local.get $pa) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 2)))';
  const cAt = '(i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc4)) (i32.shl (local.get $j) (i32.const 2))))';
  const bAt = '(i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2)))';
  return `
  ;; C[i, j] = X + Σ_k A(i, k)·B(k, j) for i < m, j < n, where X is 0 (acc 0), the old C[i, j]
  ;; (acc 1) or bias[j] at bias + 4j (acc 2); with relu set, C[i, j] is then max(0, C[i, j]).
  ;; A(i, k) is at
  ;; a + 4(i·sai + k·sak), B(k, j) at b + 4(k·ldb + j) and C[i, j] at c + 4(i·ldc + j).
  ;; Strides are in floats. C must not overlap A or B. scratch: room for 4·(ceil(m/4)·4·k + 8·k)
  ;; bytes, 16-byte aligned, overlapping nothing else.
  (func (export "gemm") (param $m i32) (param $n i32) (param $k i32) (param $a i32) (param $sai i32) (param $sak i32)
        (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32) (param $acc i32) (param $bias i32) (param $relu i32) (param $scratch i32)
    (local $j i32) (local $i i32) (local $ldc4 i32) (local $pa i32) (local $pb i32) (local $m4 i32)
    (local.set $ldc4 (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $m4 (i32.and (local.get $m) (i32.const -4)))
    (local.set $pa (local.get $scratch))
    (call $packA (local.get $a) (i32.shl (local.get $sai) (i32.const 2)) (i32.shl (local.get $sak) (i32.const 2)) (local.get $m) (local.get $k) (local.get $pa))
    ;; B panels go after the A panels (ceil(m/4) panels of 16k bytes)
    (local.set $pb (i32.add (local.get $pa) (i32.shl (i32.mul (i32.shr_u (i32.add (local.get $m) (i32.const 3)) (i32.const 2)) (local.get $k)) (i32.const 4))))
    (block $cols_done (loop $cols
      (br_if $cols_done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
      (call $packB ${bAt} (i32.shl (local.get $ldb) (i32.const 2)) (local.get $k) (local.get $pb))
      (local.set $i (i32.const 0))
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m4)))
        (call $packed_4_2 ${aPanel} (local.get $pb) ${cAt} (local.get $ldc4) (local.get $k) (local.get $acc) (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))) (local.get $relu))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows)))
      (block $rest_done (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $i) (local.get $m)))
        ;; a row of a partly filled panel: its panel's start plus its lane
        ${tileCall('$tile_1_2', '(i32.add (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $m4) (local.get $k)) (i32.const 2))) (i32.shl (i32.sub (local.get $i) (local.get $m4)) (i32.const 2)))', '(i32.const 4)', '(i32.const 16)', '(local.get $pb)', '(i32.const 32)', cAt)}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest)))
      (local.set $j (i32.add (local.get $j) (i32.const 8)))
      (br $cols)))
    ;; the last n mod 8 columns straight from B: 4 at a time, then one at a time
    (block $cols_done (loop $cols
      (br_if $cols_done (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $i (i32.const 0))
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m4)))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n))
          (then ${tileCall('$tile_4_1', aPanel, '(i32.const 4)', '(i32.const 16)', bAt, '(i32.shl (local.get $ldb) (i32.const 2))', cAt)})
          (else ${tileCall('$tile_4_0', aPanel, '(i32.const 4)', '(i32.const 16)', bAt, '(i32.shl (local.get $ldb) (i32.const 2))', cAt)}))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows)))
      (block $rest_done (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $i) (local.get $m)))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n))
          (then ${tileCall('$tile_1_1', '(i32.add (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $m4) (local.get $k)) (i32.const 2))) (i32.shl (i32.sub (local.get $i) (local.get $m4)) (i32.const 2)))', '(i32.const 4)', '(i32.const 16)', bAt, '(i32.shl (local.get $ldb) (i32.const 2))', cAt)})
          (else ${tileCall('$tile_1_0', '(i32.add (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $m4) (local.get $k)) (i32.const 2))) (i32.shl (i32.sub (local.get $i) (local.get $m4)) (i32.const 2)))', '(i32.const 4)', '(i32.const 16)', bAt, '(i32.shl (local.get $ldb) (i32.const 2))', cAt)}))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest)))
      (local.set $j (i32.add (local.get $j) (select (i32.const 4) (i32.const 1) (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))))
      (br $cols)))
  )

  ;; A (m × k at byte strides sai4, sak4) as ceil(m/4) panels of [k][4] floats; rows past m are 0.
  (func $packA (param $a i32) (param $sai4 i32) (param $sak4 i32) (param $m i32) (param $k i32) (param $dst i32)
    (local $i i32) (local $r i32) (local $kk i32) (local $p i32) (local $row i32)
    (block $done (loop $panels
      (br_if $done (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $r (i32.const 0))
      (block $rdone (loop $rows
        (br_if $rdone (i32.ge_u (local.get $r) (i32.const 4)))
        (local.set $p (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2))))
        (local.set $kk (local.get $k))
        (if (i32.lt_u (i32.add (local.get $i) (local.get $r)) (local.get $m))
          (then
            (local.set $row (i32.add (local.get $a) (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $sai4))))
            (block $kdone (loop $ks
              (br_if $kdone (i32.eqz (local.get $kk)))
              (f32.store (local.get $p) (f32.load (local.get $row)))
              (local.set $row (i32.add (local.get $row) (local.get $sak4)))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
              (br $ks))))
          (else
            (block $kdone (loop $ks
              (br_if $kdone (i32.eqz (local.get $kk)))
              (f32.store (local.get $p) (f32.const 0))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (local.set $kk (i32.sub (local.get $kk) (i32.const 1)))
              (br $ks)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
      (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 4))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $panels)))
  )

  ;; 8 columns of B (k rows, byte stride ldb4) as one [k][8] panel.
  (func $packB (param $b i32) (param $ldb4 i32) (param $k i32) (param $dst i32)
    (block $done (loop $ks
      (br_if $done (i32.eqz (local.get $k)))
      (v128.store offset=0 (local.get $dst) (v128.load offset=0 (local.get $b)))
      (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $b)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb4)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br $ks)))
  )`;
}


function elementwise() {
  return `
  ;; 2×2/2 max pooling of n images z [oh][ow][co] into out [floor(oh/2)][floor(ow/2)][co];
  ;; co must be a multiple of 4. Odd trailing rows and columns are never read.
  (func (export "maxPool") (param $z i32) (param $out i32) (param $n i32) (param $oh i32) (param $ow i32) (param $co i32)
    (local $b i32) (local $r i32) (local $c i32) (local $t i32) (local $p i32) (local $row4 i32) (local $co4 i32) (local $img4 i32) (local $ph i32) (local $pw i32)
    (local.set $co4 (i32.shl (local.get $co) (i32.const 2)))
    (local.set $row4 (i32.mul (local.get $ow) (local.get $co4)))
    (local.set $img4 (i32.mul (local.get $oh) (local.get $row4)))
    (local.set $ph (i32.shr_u (local.get $oh) (i32.const 1)))
    (local.set $pw (i32.shr_u (local.get $ow) (i32.const 1)))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $r (i32.const 0))
      (block $rd (loop $rl
        (br_if $rd (i32.ge_u (local.get $r) (local.get $ph)))
        (local.set $c (i32.const 0))
        (block $cd (loop $cl
          (br_if $cd (i32.ge_u (local.get $c) (local.get $pw)))
          ;; top-left of the window
          (local.set $p (i32.add (i32.add (local.get $z) (i32.mul (local.get $b) (local.get $img4)))
            (i32.add (i32.mul (i32.shl (local.get $r) (i32.const 1)) (local.get $row4)) (i32.mul (i32.shl (local.get $c) (i32.const 1)) (local.get $co4)))))
          (local.set $t (i32.const 0))
          (block $td (loop $tl
            (br_if $td (i32.ge_u (local.get $t) (local.get $co4)))
            (v128.store (local.get $out)
              (f32x4.max
                (f32x4.max (v128.load (local.get $p)) (v128.load (i32.add (local.get $p) (local.get $co4))))
                (f32x4.max (v128.load (i32.add (local.get $p) (local.get $row4))) (v128.load (i32.add (i32.add (local.get $p) (local.get $row4)) (local.get $co4))))))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $t (i32.add (local.get $t) (i32.const 16)))
            (br $tl)))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br $cl)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl)))
  )

  ;; One image's gradient through ReLU (when relu is set) and 2×2/2 max pooling: dz [oh][ow][co]
  ;; is zeroed, then every window position equal to its max y gets the window's dy (all tied
  ;; positions do); a window whose max is not positive passes nothing after a ReLU. co must be
  ;; a multiple of 4.
  (func (export "poolGrad") (param $z i32) (param $y i32) (param $dy i32) (param $dz i32) (param $oh i32) (param $ow i32) (param $co i32) (param $relu i32)
    (local $r i32) (local $c i32) (local $t i32) (local $off i32) (local $row4 i32) (local $co4 i32) (local $ph i32) (local $pw i32)
    (local $m v128) (local $g v128)
    (local.set $co4 (i32.shl (local.get $co) (i32.const 2)))
    (local.set $row4 (i32.mul (local.get $ow) (local.get $co4)))
    (local.set $ph (i32.shr_u (local.get $oh) (i32.const 1)))
    (local.set $pw (i32.shr_u (local.get $ow) (i32.const 1)))
    (memory.fill (local.get $dz) (i32.const 0) (i32.mul (local.get $oh) (local.get $row4)))
    (block $rd (loop $rl
      (br_if $rd (i32.ge_u (local.get $r) (local.get $ph)))
      (local.set $c (i32.const 0))
      (block $cd (loop $cl
        (br_if $cd (i32.ge_u (local.get $c) (local.get $pw)))
        (local.set $off (i32.add (i32.mul (i32.shl (local.get $r) (i32.const 1)) (local.get $row4)) (i32.mul (i32.shl (local.get $c) (i32.const 1)) (local.get $co4))))
        (local.set $t (i32.const 0))
        (block $td (loop $tl
          (br_if $td (i32.ge_u (local.get $t) (local.get $co4)))
          (local.set $m (v128.load (local.get $y)))
          (local.set $g (v128.load (local.get $dy)))
          (if (local.get $relu) (then (local.set $g (v128.and (local.get $g) (f32x4.gt (local.get $m) (v128.const f32x4 0 0 0 0))))))
          (v128.store (i32.add (local.get $dz) (local.get $off))
            (v128.and (local.get $g) (f32x4.eq (v128.load (i32.add (local.get $z) (local.get $off))) (local.get $m))))
          (v128.store (i32.add (local.get $dz) (i32.add (local.get $off) (local.get $co4)))
            (v128.and (local.get $g) (f32x4.eq (v128.load (i32.add (local.get $z) (i32.add (local.get $off) (local.get $co4)))) (local.get $m))))
          (v128.store (i32.add (local.get $dz) (i32.add (local.get $off) (local.get $row4)))
            (v128.and (local.get $g) (f32x4.eq (v128.load (i32.add (local.get $z) (i32.add (local.get $off) (local.get $row4)))) (local.get $m))))
          (v128.store (i32.add (local.get $dz) (i32.add (i32.add (local.get $off) (local.get $row4)) (local.get $co4)))
            (v128.and (local.get $g) (f32x4.eq (v128.load (i32.add (local.get $z) (i32.add (i32.add (local.get $off) (local.get $row4)) (local.get $co4)))) (local.get $m))))
          (local.set $y (i32.add (local.get $y) (i32.const 16)))
          (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
          (local.set $off (i32.add (local.get $off) (i32.const 16)))
          (local.set $t (i32.add (local.get $t) (i32.const 16)))
          (br $tl)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rl)))
  )

  ;; dst[c] = (acc ? dst[c] : 0) + src[0, c] + src[1, c] + … for c < cols, rows in order.
  (func (export "columnSums") (param $dst i32) (param $src i32) (param $rows i32) (param $cols i32) (param $acc i32)
    (local $c i32) (local $r i32) (local $cols4 i32) (local $vend i32) (local $p i32)
    (local.set $cols4 (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $vend (i32.shl (i32.and (local.get $cols) (i32.const -4)) (i32.const 2)))
    (if (i32.eqz (local.get $acc)) (then (memory.fill (local.get $dst) (i32.const 0) (local.get $cols4))))
    (block $rd (loop $rl
      (br_if $rd (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $c (i32.const 0))
      (local.set $p (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $cols4))))
      (block $vd (loop $vl
        (br_if $vd (i32.ge_u (local.get $c) (local.get $vend)))
        (v128.store (i32.add (local.get $dst) (local.get $c))
          (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $c))) (v128.load (i32.add (local.get $p) (local.get $c)))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $vl)))
      (block $sd (loop $sl
        (br_if $sd (i32.ge_u (local.get $c) (local.get $cols4)))
        (f32.store (i32.add (local.get $dst) (local.get $c))
          (f32.add (f32.load (i32.add (local.get $dst) (local.get $c))) (f32.load (i32.add (local.get $p) (local.get $c)))))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $sl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rl)))
  )

  ;; dy[i] = 0 wherever y[i] is not positive (ReLU's gradient at its output), for i < n.
  (func (export "reluGrad") (param $dy i32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dy) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $dy) (local.get $end)))
      (v128.store (local.get $dy) (v128.and (v128.load (local.get $dy)) (f32x4.gt (v128.load (local.get $y)) (v128.const f32x4 0 0 0 0))))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $dy) (local.get $end)))
      (if (i32.eqz (f32.gt (f32.load (local.get $y)) (f32.const 0))) (then (f32.store (local.get $dy) (f32.const 0))))
      (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (br $l)))
  )`;
}

function sgd() {
  return `
  ;; w[i] = w[i] + (−lr)·g[i] for i < n, as f32 (tfjs's SGD step: the product rounded, then the sum).
  (func (export "sgd") (param $w i32) (param $g i32) (param $n i32) (param $neglr f32)
    (local $lv v128) (local $end i32)
    (local.set $lv (f32x4.splat (local.get $neglr)))
    (local.set $end (i32.add (local.get $w) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done (loop $vec
      (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
      (v128.store (local.get $w) (f32x4.add (f32x4.mul (v128.load (local.get $g)) (local.get $lv)) (v128.load (local.get $w))))
      (local.set $w (i32.add (local.get $w) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (br $vec)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $done (loop $one
      (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
      (f32.store (local.get $w) (f32.add (f32.mul (f32.load (local.get $g)) (local.get $neglr)) (f32.load (local.get $w))))
      (local.set $w (i32.add (local.get $w) (i32.const 4)))
      (local.set $g (i32.add (local.get $g) (i32.const 4)))
      (br $one)))
  )`;
}

/** The whole kernels.wat text. */
export function kernelsWat() {
  const tiles = [
    [4, 1],
    [4, 0],
    [1, 2],
    [1, 1],
    [1, 0],
  ].map(([r, v]) => tile(r, v));
  return [
    ';; Generated by buildKernels.mjs. Do not edit; kernels.test.ts checks it.',
    ';; Kernels of the fast training path (see trainer.ts). Every result is a fixed sequence of',
    ';; IEEE-754 binary32 mul and add ops: no fused multiply-add, so equal inputs give equal bits.',
    '(module',
    '  (import "env" "memory" (memory 1 65536 shared))',
    packedTile(),
    ...tiles,
    gemm(),
    elementwise(),
    sgd(),
    ')',
    '',
  ].join('\n');
}

/** Assembles WAT text to wasm bytes (the aggregation kernels' assembler, which enables bulk memory too). */
export const assembleKernels = assembleWat;

/** The TypeScript source that carries the bytes. */
export function kernelsModuleSource(bytes) {
  return aggregateModuleSource(bytes, {
    header: '// Generated by buildKernels.mjs. Do not edit; kernels.test.ts checks it.',
    doc: '/** The fast training path\'s kernels (kernels.wat), assembled, as base64. */',
    exportName: 'fastKernelsWasmBase64',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const wat = kernelsWat();
  await writeFile(new URL('./kernels.wat', import.meta.url), wat);
  const bytes = await assembleKernels(wat);
  const outUrl = new URL('./kernelsWasm.ts', import.meta.url);
  await writeFile(outUrl, kernelsModuleSource(bytes));
  console.log(`wrote kernels.wat and ${fileURLToPath(outUrl)} (${bytes.length} bytes of wasm)`);
}
