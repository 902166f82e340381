//! A native implementation of the tinyphysics transformer, with prefix-shared batched rollouts.
//!
//! The tinyphysics model is a nanoGPT-style causal transformer (Radford et al., *Language Models
//! are Unsupervised Multitask Learners*, 2019, the GPT-2 block: pre-LayerNorm, causal
//! multi-head attention, tanh-approximated GELU MLP; Vaswani et al., *Attention Is All You
//! Need*, 2017). [`NativeModel::load`] reads its weights from the ONNX file itself (a small
//! protobuf reader, [`crate::protobuf`]) and maps every weight by the node that consumes it
//! (`/wt_embedding/MatMul`, `/h.{i}/attn/c_attn/MatMul`, ...); a graph that is not this
//! architecture is a [`MpcError::ModelArchitecture`] naming the file and what is missing.
//!
//! The forward pass of one 20-step window:
//!
//! ```text
//! x_p = [states_p W_s + b_s, E_tok[token_p]] + E_pos[p]            (p = 0..19)
//! for each block: x += Attn(LN1(x)) W_proj;  x += GELU(LN2(x) W_fc) W_out
//! logits = LN_f(x_19) W_head
//! ```
//!
//! **Prefix sharing** ([`DynamicsModel::shared_prefix_logits`]): during a horizon rollout at
//! horizon step `k`, every candidate's window is the same `20 - k` steps of real history followed
//! by the candidate's own `k` steps. With the causal mask, the history positions' hidden states
//! and per-layer keys and values are the same for every candidate: they are computed once (and
//! kept in a small cache, so the cross-entropy iterations of a planning step reuse them), and the
//! candidates' own positions are computed as one batch of `samples * k` rows attending to the
//! shared keys and values. In the last block only the last position needs its query, attention
//! output and MLP, and `ln_f` / `lm_head` run on the last position only. Matrix products go
//! through `matrixmultiply`'s f32 GEMM (runtime AVX/FMA detection).
//!
//! The logits equal ONNX Runtime's up to float rounding (different summation orders); the
//! simulator itself keeps ONNX Runtime for the official sampling, the native model serves the
//! planner.

use std::path::{Path, PathBuf};

use crate::error::MpcError;
use crate::model::{CONTEXT_LENGTH, DynamicsModel, STATE_DIM, check_batch, check_shared};
use crate::protobuf::{Graph, Tensor};
use crate::tokenizer::VOCAB_SIZE;

/// Prefixes kept in the cache (a planning step uses at most `horizon` of them).
const CACHE_CAPACITY: usize = 48;

#[derive(Debug, Clone)]
struct Norm {
    gain: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

#[derive(Debug, Clone)]
struct Block {
    ln1: Norm,
    /// `[width, 3 * width]`: query, key, value.
    w_qkv: Vec<f32>,
    /// `[width, width]`.
    w_proj: Vec<f32>,
    ln2: Norm,
    /// `[width, ff]`.
    w_fc: Vec<f32>,
    /// `[ff, width]`.
    w_out: Vec<f32>,
}

/// Keys and values of a shared prefix, per block `[len, 2 * width]` (key then value).
#[derive(Debug, Clone)]
struct Prefix {
    states: Vec<f32>,
    tokens: Vec<i64>,
    kv: Vec<Vec<f32>>,
}

#[derive(Debug, Default, Clone)]
struct Scratch {
    x: Vec<f32>,
    h: Vec<f32>,
    qkv: Vec<f32>,
    att: Vec<f32>,
    ff: Vec<f32>,
    q: Vec<f32>,
    y: Vec<f32>,
    scores: Vec<f32>,
}

/// The tinyphysics transformer evaluated natively (see the module documentation).
#[derive(Debug, Clone)]
pub struct NativeModel {
    path: PathBuf,
    width: usize,
    heads: usize,
    ff: usize,
    scale: f32,
    state_width: usize,
    /// `[4, state_width]` and `[state_width]`.
    w_state: Vec<f32>,
    b_state: Vec<f32>,
    /// `[1024, width - state_width]`.
    tok_emb: Vec<f32>,
    /// `[20, width]`.
    pos_emb: Vec<f32>,
    blocks: Vec<Block>,
    ln_f: Norm,
    /// `[width, 1024]`.
    lm_head: Vec<f32>,
    cache: Vec<Prefix>,
    scratch: Scratch,
}

/// Follows `Identity` nodes back to an initializer.
fn resolve<'g>(g: &'g Graph, name: &str) -> Option<&'g Tensor> {
    let mut name = name;
    for _ in 0..16 {
        if let Some(t) = g.initializer(name) {
            return Some(t);
        }
        let n = g
            .nodes
            .iter()
            .find(|n| n.op_type == "Identity" && n.outputs.iter().any(|o| o == name))?;
        name = n.inputs.first()?;
    }
    None
}

fn node<'g>(g: &'g Graph, name: &str) -> Result<&'g crate::protobuf::Node, String> {
    g.node(name).ok_or_else(|| format!("no node `{name}`"))
}

/// The weight initializer consumed by `node_name`, with its dims checked (`0` = any size).
fn weight(g: &Graph, node_name: &str, dims: &[usize]) -> Result<(Vec<f32>, Vec<usize>), String> {
    let n = node(g, node_name)?;
    let t = n
        .inputs
        .iter()
        .find_map(|i| resolve(g, i))
        .ok_or_else(|| format!("node `{node_name}` consumes no weight initializer"))?;
    let have: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).unwrap_or(0))
        .collect();
    if have.len() != dims.len() || have.iter().zip(dims).any(|(&h, &w)| w != 0 && h != w) {
        return Err(format!(
            "weight `{}` of node `{node_name}` has dims {:?}, expected {dims:?} (0 = any)",
            t.name, t.dims
        ));
    }
    Ok((t.floats()?, have))
}

/// The `Constant` input of `node_name`.
fn constant<'g>(g: &'g Graph, node_name: &str) -> Result<&'g Tensor, String> {
    let n = node(g, node_name)?;
    n.inputs
        .iter()
        .find_map(|i| g.constant(i))
        .ok_or_else(|| format!("node `{node_name}` has no constant input"))
}

fn scalar(g: &Graph, node_name: &str) -> Result<f32, String> {
    let v = constant(g, node_name)?.floats()?;
    match v[..] {
        [x] => Ok(x),
        _ => Err(format!("constant of `{node_name}` is not a scalar")),
    }
}

/// No bias `Add` after a linear layer (the real export has none; a bias would be ignored).
fn no_bias(g: &Graph, prefix: &str) -> Result<(), String> {
    match g.node(&format!("{prefix}/Add")) {
        Some(_) => Err(format!("`{prefix}` has a bias (not supported)")),
        None => Ok(()),
    }
}

fn norm(g: &Graph, prefix: &str, width: usize) -> Result<Norm, String> {
    let (gain, _) = weight(g, &format!("{prefix}/Mul"), &[width])?;
    let (bias, _) = weight(g, &format!("{prefix}/Add_1"), &[width])?;
    node(g, &format!("{prefix}/Sqrt"))?;
    let eps = scalar(g, &format!("{prefix}/Add"))?;
    Ok(Norm { gain, bias, eps })
}

fn read_architecture(g: &Graph) -> Result<NativeModel, String> {
    let (w_state, d) = weight(g, "/wt_embedding/MatMul", &[STATE_DIM, 0])?;
    let state_width = d[1];
    let (b_state, _) = weight(g, "/wt_embedding/Add", &[state_width])?;
    let (tok_emb, d) = weight(g, "/wt2_embedding/Gather", &[VOCAB_SIZE, 0])?;
    let width = state_width + d[1];
    let concat = node(g, "/Concat_1")?;
    let wt_out = &node(g, "/wt_embedding/Add")?.outputs;
    let wt2_out = &node(g, "/wt2_embedding/Gather")?.outputs;
    if concat.inputs.len() != 2 || concat.inputs[0] != wt_out[0] || concat.inputs[1] != wt2_out[0] {
        return Err("`/Concat_1` does not concatenate [state embedding, token embedding]".into());
    }
    let (pos_emb, _) = weight(g, "/wp_embedding/Gather", &[CONTEXT_LENGTH, width])?;
    let mut blocks = Vec::new();
    let mut heads = 0;
    let mut ff = 0;
    let mut scale = 0.0;
    while g
        .node(&format!("/h.{}/attn/c_attn/MatMul", blocks.len()))
        .is_some()
    {
        let p = format!("/h.{}", blocks.len());
        let (w_qkv, _) = weight(g, &format!("{p}/attn/c_attn/MatMul"), &[width, 3 * width])?;
        let (w_proj, _) = weight(g, &format!("{p}/attn/c_proj/MatMul"), &[width, width])?;
        let (w_fc, d) = weight(g, &format!("{p}/mlp/c_fc/MatMul"), &[width, 0])?;
        ff = d[1];
        let (w_out, _) = weight(g, &format!("{p}/mlp/c_proj/MatMul"), &[ff, width])?;
        for lin in ["attn/c_attn", "attn/c_proj", "mlp/c_fc", "mlp/c_proj"] {
            no_bias(g, &format!("{p}/{lin}"))?;
        }
        // Query, key, value order of the split, as the export uses it.
        let split = node(g, &format!("{p}/attn/Split"))?;
        for (reshape, k) in [("Reshape_1", 0), ("Reshape", 1), ("Reshape_2", 2)] {
            let r = node(g, &format!("{p}/attn/{reshape}"))?;
            if split.outputs.len() != 3 || r.inputs.first() != split.outputs.get(k) {
                return Err(format!(
                    "`{p}/attn/Split` outputs are not used as query, key, value"
                ));
            }
        }
        // The head count is the third entry of the query's [batch, time, heads, head_dim] shape.
        let concat = node(g, &format!("{p}/attn/Concat"))?;
        let h = concat
            .inputs
            .get(2)
            .and_then(|i| g.constant(i))
            .ok_or_else(|| format!("`{p}/attn/Concat` has no constant head count"))
            .and_then(|t| t.ints())
            .map_err(|e| format!("head count: {e}"))?;
        let h = match h[..] {
            [h] if h > 0 && width % h as usize == 0 => h as usize,
            _ => return Err(format!("`{p}/attn/Concat`: invalid head count {h:?}")),
        };
        if blocks.is_empty() {
            heads = h;
            scale = scalar(g, &format!("{p}/attn/Mul"))?;
        } else if h != heads || scalar(g, &format!("{p}/attn/Mul"))? != scale {
            return Err(format!("`{p}` differs in head count or scale from `/h.0`"));
        }
        // The causal mask.
        let mask = node(g, &format!("{p}/attn/Gather_3"))?;
        let mask = mask
            .inputs
            .first()
            .and_then(|i| resolve(g, i))
            .ok_or_else(|| format!("`{p}/attn/Gather_3` has no mask initializer"))?;
        let m = mask.ints()?;
        let n = mask.dims.last().copied().unwrap_or(0) as usize;
        if n < CONTEXT_LENGTH
            || m.len() != n * n
            || (0..CONTEXT_LENGTH)
                .any(|i| (0..CONTEXT_LENGTH).any(|j| (m[i * n + j] != 0) != (j <= i)))
        {
            return Err(format!(
                "`{}` is not a causal (lower-triangular) mask",
                mask.name
            ));
        }
        node(g, &format!("{p}/attn/Softmax"))?;
        node(g, &format!("{p}/mlp/act/Tanh"))
            .map_err(|e| format!("{e}: the MLP activation must be the tanh GELU"))?;
        blocks.push(Block {
            ln1: norm(g, &format!("{p}/attn/layer_norm"), width)?,
            w_qkv,
            w_proj,
            ln2: norm(g, &format!("{p}/mlp/layer_norm"), width)?,
            w_fc,
            w_out,
        });
    }
    if blocks.is_empty() {
        return Err("no transformer block (`/h.0/attn/c_attn/MatMul`)".into());
    }
    let ln_f = norm(g, "/layer_norm_f", width)?;
    let (lm_head, _) = weight(g, "/lm_head/MatMul", &[width, VOCAB_SIZE])?;
    no_bias(g, "/lm_head")?;
    if node(g, "/lm_head/MatMul")?
        .outputs
        .first()
        .map(String::as_str)
        != Some("output")
    {
        return Err("`/lm_head/MatMul` does not produce the graph output `output`".into());
    }
    Ok(NativeModel {
        path: PathBuf::new(),
        width,
        heads,
        ff,
        scale,
        state_width,
        w_state,
        b_state,
        tok_emb,
        pos_emb,
        blocks,
        ln_f,
        lm_head,
        cache: Vec::new(),
        scratch: Scratch::default(),
    })
}

/// `c[m x n] (+)= a[m x k] @ b[k x n]`, row-major with the given row strides (`lda`, `ldb`,
/// `ldc` elements between rows), through `matrixmultiply::sgemm` (packed panels and a SIMD
/// micro-kernel chosen at run time; Goto and van de Geijn 2008). With `accumulate` the product
/// is added to `c`, otherwise it overwrites `c`. The one safe wrapper of `sgemm` in this crate:
/// the native model and the bench's GEMM table both call it.
///
/// # Panics
///
/// When a slice is shorter than its shape and stride need (a caller's bug, as an out-of-range
/// slice index is); the unsafe call never reads or writes outside the slices.
///
/// ```
/// // [1 2; 3 4] @ [5 6; 7 8]
/// let mut c = [0.0f32; 4];
/// mpc::native::gemm(2, 2, 2, &[1.0, 2.0, 3.0, 4.0], 2, &[5.0, 6.0, 7.0, 8.0], 2, &mut c, 2, false);
/// assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    // The bounds of every access, so that the unsafe call below stays in the slices.
    assert!(k == 0 || a.len() >= (m - 1) * lda + k);
    assert!(k == 0 || b.len() >= (k - 1) * ldb + n);
    assert!(c.len() >= (m - 1) * ldc + n);
    let beta = if accumulate { 1.0 } else { 0.0 };
    // SAFETY: the asserts above keep every element the GEMM touches inside its slice; `c` does
    // not alias `a` or `b` (distinct borrows).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            lda as isize,
            1,
            b.as_ptr(),
            ldb as isize,
            1,
            beta,
            c.as_mut_ptr(),
            ldc as isize,
            1,
        );
    }
}

/// LayerNorm of each `width`-row of `x` into `out`, in the order of the exported graph.
fn layer_norm(norm: &Norm, x: &[f32], out: &mut [f32], width: usize) {
    let inv = 1.0 / width as f32;
    for (xr, or) in x.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
        let mean = xr.iter().sum::<f32>() * inv;
        let var = xr.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() * inv;
        let sd = (var + norm.eps).sqrt();
        for ((o, &v), (&g, &b)) in or.iter_mut().zip(xr).zip(norm.gain.iter().zip(&norm.bias)) {
            *o = (v - mean) / sd * g + b;
        }
    }
}

/// `tanh` as the rational approximation `x P(x^2) / Q(x^2)` (degrees 13/6) on [-7.9, 7.9],
/// saturated outside: the fast float tanh of Eigen (`generic_fast_tanh_float`), accurate to a
/// few float ulps and branch-free, so that loops over it vectorise (libm's `tanhf` took a
/// third of the planner's time).
#[inline(always)]
#[allow(clippy::excessive_precision)] // the published coefficients, as written
fn fast_tanh(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let mut p = -2.760_768_5e-16_f32;
    p = p * x2 + 2.000_187_9e-13;
    p = p * x2 + -8.604_671_5e-11;
    p = p * x2 + 5.122_297e-8;
    p = p * x2 + 1.485_722_4e-5;
    p = p * x2 + 6.372_619_3e-4;
    p = p * x2 + 4.893_524_6e-3;
    p *= x;
    let mut q = 1.198_258_4e-6_f32;
    q = q * x2 + 1.185_347_1e-4;
    q = q * x2 + 2.268_434_6e-3;
    q = q * x2 + 4.893_525e-3;
    p / q
}

/// The tanh GELU, `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`, in the graph's order.
fn gelu(x: &mut [f32]) {
    for v in x {
        let u = *v;
        let t = fast_tanh(0.797_884_6 * (u + 0.044715 * (u * (u * u))));
        *v = 0.5 * (u * (1.0 + t));
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ac, ar) = a.split_at(a.len() / 8 * 8);
    let (bc, br) = b.split_at(ac.len());
    for (x, y) in ac.chunks_exact(8).zip(bc.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + ar.iter().zip(br).map(|(x, y)| x * y).sum::<f32>()
}

impl NativeModel {
    /// Loads the transformer's weights from an ONNX file of the tinyphysics architecture.
    ///
    /// Errors: [`MpcError::Io`] when the file cannot be read, [`MpcError::ModelArchitecture`]
    /// when it is not an ONNX model of this architecture (naming what is missing).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, MpcError> {
        let path = path.as_ref().to_path_buf();
        let bytes = std::fs::read(&path).map_err(|source| MpcError::Io {
            path: path.clone(),
            source,
        })?;
        let arch = |problem: String| MpcError::ModelArchitecture {
            path: path.clone(),
            problem,
        };
        let graph = Graph::from_model_bytes(&bytes).map_err(arch)?;
        let mut model = read_architecture(&graph).map_err(arch)?;
        model.path = path;
        Ok(model)
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Width of the residual stream.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of transformer blocks.
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// Attention heads per block.
    pub fn heads(&self) -> usize {
        self.heads
    }

    /// Embeds `rows` steps (`states` `[rows, 4]`, `tokens` `[rows]`) at positions
    /// `first_pos + (row % per_sample)` into `x`.
    fn embed(
        &self,
        states: &[f32],
        tokens: &[i64],
        per_sample: usize,
        first_pos: usize,
        x: &mut Vec<f32>,
    ) {
        let (d, e1) = (self.width, self.state_width);
        let e2 = d - e1;
        x.clear();
        x.resize(tokens.len() * d, 0.0);
        for (r, (xr, (s, &tok))) in x
            .chunks_exact_mut(d)
            .zip(states.chunks_exact(STATE_DIM).zip(tokens))
            .enumerate()
        {
            let pos = first_pos + r % per_sample;
            for (j, o) in xr[..e1].iter_mut().enumerate() {
                let mut acc = 0.0f32;
                for (i, &si) in s.iter().enumerate() {
                    acc += si * self.w_state[i * e1 + j];
                }
                *o = self.b_state[j] + acc;
            }
            let tok = tok as usize;
            xr[e1..].copy_from_slice(&self.tok_emb[tok * e2..(tok + 1) * e2]);
            for (o, &p) in xr.iter_mut().zip(&self.pos_emb[pos * d..(pos + 1) * d]) {
                *o += p;
            }
        }
    }

    /// Attention of one query row over the prefix keys/values (`prefix_kv` `[len, 2d]`) and the
    /// first `own` rows of `own_qkv` (`[rows, 3d]`, keys at `d`, values at `2d`).
    fn attend(
        &self,
        q: &[f32],
        prefix_kv: &[f32],
        own_qkv: &[f32],
        own: usize,
        out: &mut [f32],
        scores: &mut Vec<f32>,
    ) {
        let d = self.width;
        let hd = d / self.heads;
        let plen = prefix_kv.len() / (2 * d);
        for h in 0..self.heads {
            let qh = &q[h * hd..(h + 1) * hd];
            scores.clear();
            for p in 0..plen {
                let k = &prefix_kv[p * 2 * d + h * hd..][..hd];
                scores.push(dot(qh, k) * self.scale);
            }
            for i in 0..own {
                let k = &own_qkv[i * 3 * d + d + h * hd..][..hd];
                scores.push(dot(qh, k) * self.scale);
            }
            let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0f32;
            for s in scores.iter_mut() {
                *s = (*s - max).exp();
                sum += *s;
            }
            let oh = &mut out[h * hd..(h + 1) * hd];
            oh.iter_mut().for_each(|o| *o = 0.0);
            for (p, &w) in scores[..plen].iter().enumerate() {
                let v = &prefix_kv[p * 2 * d + d + h * hd..][..hd];
                for (o, &vv) in oh.iter_mut().zip(v) {
                    *o += (w / sum) * vv;
                }
            }
            for (i, &w) in scores[plen..].iter().enumerate() {
                let v = &own_qkv[i * 3 * d + 2 * d + h * hd..][..hd];
                for (o, &vv) in oh.iter_mut().zip(v) {
                    *o += (w / sum) * vv;
                }
            }
        }
    }

    /// The MLP half of a block on `rows` rows of `x` (in place), using `s.h` and `s.ff`.
    fn mlp(&self, b: &Block, x: &mut [f32], rows: usize, h: &mut Vec<f32>, ffb: &mut Vec<f32>) {
        let d = self.width;
        h.resize(rows * d, 0.0);
        layer_norm(&b.ln2, x, h, d);
        ffb.resize(rows * self.ff, 0.0);
        gemm(
            rows, d, self.ff, h, d, &b.w_fc, self.ff, ffb, self.ff, false,
        );
        gelu(ffb);
        gemm(rows, self.ff, d, ffb, self.ff, &b.w_out, d, x, d, true);
    }

    /// Keys and values of every block for a shared prefix (positions `0..len`).
    fn encode_prefix(&self, states: &[f32], tokens: &[i64], s: &mut Scratch) -> Vec<Vec<f32>> {
        let d = self.width;
        let rows = tokens.len();
        let mut kv = Vec::with_capacity(self.blocks.len());
        if rows == 0 {
            return vec![Vec::new(); self.blocks.len()];
        }
        self.embed(states, tokens, rows, 0, &mut s.x);
        let last = self.blocks.len() - 1;
        for (l, b) in self.blocks.iter().enumerate() {
            s.h.resize(rows * d, 0.0);
            layer_norm(&b.ln1, &s.x, &mut s.h, d);
            s.qkv.resize(rows * 3 * d, 0.0);
            gemm(
                rows,
                d,
                3 * d,
                &s.h,
                d,
                &b.w_qkv,
                3 * d,
                &mut s.qkv,
                3 * d,
                false,
            );
            let mut block_kv = Vec::with_capacity(rows * 2 * d);
            for r in 0..rows {
                block_kv.extend_from_slice(&s.qkv[r * 3 * d + d..(r + 1) * 3 * d]);
            }
            kv.push(block_kv);
            if l == last {
                break;
            }
            s.att.resize(rows * d, 0.0);
            for r in 0..rows {
                let q = &s.qkv[r * 3 * d..r * 3 * d + d];
                let out = &mut s.att[r * d..(r + 1) * d];
                self.attend(q, &[], &s.qkv, r + 1, out, &mut s.scores);
            }
            gemm(rows, d, d, &s.att, d, &b.w_proj, d, &mut s.x, d, true);
            self.mlp(b, &mut s.x, rows, &mut s.h, &mut s.ff);
        }
        kv
    }

    #[allow(clippy::too_many_arguments)]
    /// Last-position logits of `samples` windows: the shared prefix (keys/values `prefix_kv`,
    /// `plen` positions) followed by each sample's `k` own steps.
    fn decode(
        &self,
        prefix_kv: &[Vec<f32>],
        plen: usize,
        states: &[f32],
        tokens: &[i64],
        samples: usize,
        k: usize,
        s: &mut Scratch,
        logits: &mut Vec<f32>,
    ) {
        let d = self.width;
        let rows = samples * k;
        self.embed(states, tokens, k, plen, &mut s.x);
        let last = self.blocks.len() - 1;
        for (l, b) in self.blocks.iter().enumerate() {
            let pkv = &prefix_kv[l][..plen * 2 * d];
            s.h.resize(rows * d, 0.0);
            layer_norm(&b.ln1, &s.x, &mut s.h, d);
            s.qkv.resize(rows * 3 * d, 0.0);
            if l < last {
                gemm(
                    rows,
                    d,
                    3 * d,
                    &s.h,
                    d,
                    &b.w_qkv,
                    3 * d,
                    &mut s.qkv,
                    3 * d,
                    false,
                );
                s.att.resize(rows * d, 0.0);
                for smp in 0..samples {
                    let own = &s.qkv[smp * k * 3 * d..(smp + 1) * k * 3 * d];
                    for j in 0..k {
                        let q = &own[j * 3 * d..j * 3 * d + d];
                        let out = &mut s.att[(smp * k + j) * d..(smp * k + j + 1) * d];
                        self.attend(q, pkv, own, j + 1, out, &mut s.scores);
                    }
                }
                gemm(rows, d, d, &s.att, d, &b.w_proj, d, &mut s.x, d, true);
                self.mlp(b, &mut s.x, rows, &mut s.h, &mut s.ff);
            } else {
                // Keys and values of every row, the query of the last row of each sample only.
                gemm(
                    rows,
                    d,
                    2 * d,
                    &s.h,
                    d,
                    &b.w_qkv[d..],
                    3 * d,
                    &mut s.qkv[d..],
                    3 * d,
                    false,
                );
                s.q.resize(samples * d, 0.0);
                let h_last = &s.h[(k - 1) * d..];
                gemm(
                    samples,
                    d,
                    d,
                    h_last,
                    k * d,
                    &b.w_qkv,
                    3 * d,
                    &mut s.q,
                    d,
                    false,
                );
                s.att.resize(samples * d, 0.0);
                s.y.clear();
                for smp in 0..samples {
                    let own = &s.qkv[smp * k * 3 * d..(smp + 1) * k * 3 * d];
                    let q = &s.q[smp * d..(smp + 1) * d];
                    let out = &mut s.att[smp * d..(smp + 1) * d];
                    self.attend(q, pkv, own, k, out, &mut s.scores);
                    let xr = (smp * k + k - 1) * d;
                    s.y.extend_from_slice(&s.x[xr..xr + d]);
                }
                gemm(samples, d, d, &s.att, d, &b.w_proj, d, &mut s.y, d, true);
                self.mlp(b, &mut s.y, samples, &mut s.h, &mut s.ff);
            }
        }
        s.h.resize(samples * d, 0.0);
        layer_norm(&self.ln_f, &s.y, &mut s.h, d);
        logits.clear();
        logits.resize(samples * VOCAB_SIZE, 0.0);
        gemm(
            samples,
            d,
            VOCAB_SIZE,
            &s.h,
            d,
            &self.lm_head,
            VOCAB_SIZE,
            logits,
            VOCAB_SIZE,
            false,
        );
    }

    fn fail(&self, reason: String) -> MpcError {
        MpcError::Inference {
            path: self.path.clone(),
            reason,
        }
    }
}

impl DynamicsModel for NativeModel {
    fn last_logits(
        &mut self,
        states: &[f32],
        tokens: &[i64],
        batch: usize,
        logits: &mut Vec<f32>,
    ) -> Result<(), MpcError> {
        check_batch(states, tokens, batch).map_err(|r| self.fail(r))?;
        if batch == 0 {
            logits.clear();
            return Ok(());
        }
        let mut s = std::mem::take(&mut self.scratch);
        let empty = vec![Vec::new(); self.blocks.len()];
        self.decode(
            &empty,
            0,
            states,
            tokens,
            batch,
            CONTEXT_LENGTH,
            &mut s,
            logits,
        );
        self.scratch = s;
        Ok(())
    }

    fn shared_prefix_logits(
        &mut self,
        prefix_states: &[f32],
        prefix_tokens: &[i64],
        suffix_states: &[f32],
        suffix_tokens: &[i64],
        samples: usize,
        logits: &mut Vec<f32>,
    ) -> Result<(), MpcError> {
        let k = check_shared(
            prefix_states,
            prefix_tokens,
            suffix_states,
            suffix_tokens,
            samples,
        )
        .map_err(|r| self.fail(r))?;
        if samples == 0 {
            logits.clear();
            return Ok(());
        }
        let mut s = std::mem::take(&mut self.scratch);
        let same = |p: &Prefix| {
            p.tokens == prefix_tokens
                && p.states.len() == prefix_states.len()
                && p.states
                    .iter()
                    .zip(prefix_states)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
        };
        let idx = match self.cache.iter().position(same) {
            Some(i) => i,
            None => {
                let kv = self.encode_prefix(prefix_states, prefix_tokens, &mut s);
                if self.cache.len() >= CACHE_CAPACITY {
                    self.cache.remove(0);
                }
                self.cache.push(Prefix {
                    states: prefix_states.to_vec(),
                    tokens: prefix_tokens.to_vec(),
                    kv,
                });
                self.cache.len() - 1
            }
        };
        let plen = prefix_tokens.len();
        self.decode(
            &self.cache[idx].kv,
            plen,
            suffix_states,
            suffix_tokens,
            samples,
            k,
            &mut s,
            logits,
        );
        self.scratch = s;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_is_accurate() {
        let mut worst = 0.0f64;
        for i in -40_000..=40_000 {
            let x = i as f32 * 3e-4;
            let err = (f64::from(fast_tanh(x)) - f64::from(x).tanh()).abs();
            worst = worst.max(err);
        }
        assert!(worst < 1e-6, "max error {worst}");
        assert_eq!(fast_tanh(50.0), fast_tanh(8.0));
        assert!((fast_tanh(8.0) - 1.0).abs() < 1e-6 && (fast_tanh(-30.0) + 1.0).abs() < 1e-6);
        assert!(fast_tanh(f32::NAN).is_nan());
    }
}
