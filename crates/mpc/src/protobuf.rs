//! A minimal reader of the protobuf wire format, for the parts of an ONNX file the native model
//! needs: `ModelProto.graph`, `GraphProto.node` / `.initializer`, `NodeProto` names, types,
//! inputs, outputs and `Constant` values, and `TensorProto` dims, type and data.
//!
//! Field numbers are those of `onnx.proto` (github.com/onnx/onnx, `onnx/onnx.proto`); the wire
//! format is the one of the protobuf encoding guide (protobuf.dev/programming-guides/encoding).
//! Every malformed input is an `Err(String)` describing the problem, never a panic.

/// ONNX `TensorProto.DataType` FLOAT.
pub const FLOAT: i32 = 1;
/// ONNX `TensorProto.DataType` INT64.
pub const INT64: i32 = 7;
/// ONNX `TensorProto.DataType` BOOL.
pub const BOOL: i32 = 9;

/// One wire value.
#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32(u32),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err("truncated varint".into());
            };
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("field of {n} bytes runs past the end of its message"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next field, or `None` at the end of the message.
    fn field(&mut self) -> Result<Option<(u64, Wire<'a>)>, String> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed64
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| "length too large")?;
                Wire::Bytes(self.take(n)?)
            }
            5 => Wire::Fixed32(u32::from_le_bytes(
                self.take(4)?.try_into().unwrap_or([0; 4]),
            )),
            other => return Err(format!("unsupported wire type {other} (field {number})")),
        };
        Ok(Some((number, wire)))
    }
}

fn string(w: Wire<'_>, what: &str) -> Result<String, String> {
    match w {
        Wire::Bytes(b) => String::from_utf8(b.to_vec()).map_err(|_| format!("{what} is not UTF-8")),
        _ => Err(format!("{what} has the wrong wire type")),
    }
}

/// Appends the values of a repeated varint field, packed or not.
fn varints(w: Wire<'_>, out: &mut Vec<i64>) -> Result<(), String> {
    match w {
        Wire::Varint(v) => out.push(v as i64),
        Wire::Bytes(b) => {
            let mut r = Reader::new(b);
            while r.pos < b.len() {
                out.push(r.varint()? as i64);
            }
        }
        _ => return Err("repeated integer field has the wrong wire type".into()),
    }
    Ok(())
}

/// An ONNX tensor: name, dims, element type and its data as stored.
#[derive(Debug, Clone, Default)]
pub struct Tensor {
    /// `TensorProto.name`.
    pub name: String,
    /// `TensorProto.dims`.
    pub dims: Vec<i64>,
    /// `TensorProto.data_type`.
    pub data_type: i32,
    raw: Vec<u8>,
    float_data: Vec<f32>,
    int_data: Vec<i64>,
    external: bool,
}

impl Tensor {
    fn parse(buf: &[u8]) -> Result<Self, String> {
        let mut t = Tensor::default();
        let mut r = Reader::new(buf);
        while let Some((n, w)) = r.field()? {
            match (n, w) {
                (1, w) => varints(w, &mut t.dims)?,
                (2, Wire::Varint(v)) => t.data_type = v as i32,
                (4, Wire::Fixed32(v)) => t.float_data.push(f32::from_bits(v)),
                (4, Wire::Bytes(b)) => t.float_data.extend(
                    b.chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                ),
                // int32_data (bool, int8, ...) and int64_data.
                (5 | 7, w) => varints(w, &mut t.int_data)?,
                (8, w) => t.name = string(w, "tensor name")?,
                (9, Wire::Bytes(b)) => t.raw = b.to_vec(),
                (13, _) => t.external = true,
                (14, Wire::Varint(v)) => t.external |= v == 1,
                _ => {}
            }
        }
        Ok(t)
    }

    /// Number of elements the dims describe.
    pub fn numel(&self) -> usize {
        self.dims
            .iter()
            .map(|&d| usize::try_from(d).unwrap_or(0))
            .product()
    }

    fn check_len(&self, have: usize) -> Result<(), String> {
        if self.external {
            return Err(format!(
                "tensor `{}` keeps its data in an external file (not supported)",
                self.name
            ));
        }
        if have != self.numel() {
            return Err(format!(
                "tensor `{}` has {have} values for dims {:?}",
                self.name, self.dims
            ));
        }
        Ok(())
    }

    /// The values of a float32 tensor.
    pub fn floats(&self) -> Result<Vec<f32>, String> {
        if self.data_type != FLOAT {
            return Err(format!(
                "tensor `{}` has data type {}, expected float32",
                self.name, self.data_type
            ));
        }
        let v: Vec<f32> = if self.raw.is_empty() {
            self.float_data.clone()
        } else {
            if !self.raw.len().is_multiple_of(4) {
                return Err(format!(
                    "tensor `{}`: raw data not a multiple of 4",
                    self.name
                ));
            }
            self.raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        };
        self.check_len(v.len())?;
        Ok(v)
    }

    /// The values of an int64 or bool tensor, as i64.
    pub fn ints(&self) -> Result<Vec<i64>, String> {
        let v: Vec<i64> = match (self.data_type, self.raw.is_empty()) {
            (INT64, false) => {
                if !self.raw.len().is_multiple_of(8) {
                    return Err(format!(
                        "tensor `{}`: raw data not a multiple of 8",
                        self.name
                    ));
                }
                self.raw
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                    .collect()
            }
            (BOOL, false) => self.raw.iter().map(|&b| i64::from(b)).collect(),
            (INT64 | BOOL, true) => self.int_data.clone(),
            (other, _) => {
                return Err(format!(
                    "tensor `{}` has data type {other}, expected int64 or bool",
                    self.name
                ));
            }
        };
        self.check_len(v.len())?;
        Ok(v)
    }
}

/// An ONNX node: name, operator, inputs, outputs, and the value of a `Constant`.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// `NodeProto.name`.
    pub name: String,
    /// `NodeProto.op_type`.
    pub op_type: String,
    /// `NodeProto.input`.
    pub inputs: Vec<String>,
    /// `NodeProto.output`.
    pub outputs: Vec<String>,
    /// The tensor attribute `value` (set for `Constant` nodes).
    pub value: Option<Tensor>,
}

impl Node {
    fn parse(buf: &[u8]) -> Result<Self, String> {
        let mut node = Node::default();
        let mut r = Reader::new(buf);
        while let Some((n, w)) = r.field()? {
            match n {
                1 => node.inputs.push(string(w, "node input")?),
                2 => node.outputs.push(string(w, "node output")?),
                3 => node.name = string(w, "node name")?,
                4 => node.op_type = string(w, "node op_type")?,
                5 => {
                    let Wire::Bytes(b) = w else {
                        return Err("node attribute has the wrong wire type".into());
                    };
                    let mut ar = Reader::new(b);
                    let mut name = String::new();
                    let mut tensor = None;
                    while let Some((an, aw)) = ar.field()? {
                        match (an, aw) {
                            (1, aw) => name = string(aw, "attribute name")?,
                            (5, Wire::Bytes(tb)) => tensor = Some(Tensor::parse(tb)?),
                            _ => {}
                        }
                    }
                    if name == "value" {
                        node.value = tensor;
                    }
                }
                _ => {}
            }
        }
        Ok(node)
    }
}

/// The graph of an ONNX model: its nodes and initializers.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// `GraphProto.node`, in order.
    pub nodes: Vec<Node>,
    /// `GraphProto.initializer`.
    pub initializers: Vec<Tensor>,
}

impl Graph {
    /// Parses the bytes of an ONNX `ModelProto` and returns its graph.
    pub fn from_model_bytes(bytes: &[u8]) -> Result<Self, String> {
        let mut r = Reader::new(bytes);
        let mut graph = None;
        while let Some((n, w)) = r.field()? {
            if let (7, Wire::Bytes(b)) = (n, w) {
                graph = Some(b);
            }
        }
        let graph = graph.ok_or("no graph in the model (not an ONNX ModelProto?)")?;
        let mut g = Graph::default();
        let mut r = Reader::new(graph);
        while let Some((n, w)) = r.field()? {
            match (n, w) {
                (1, Wire::Bytes(b)) => g.nodes.push(Node::parse(b)?),
                (5, Wire::Bytes(b)) => g.initializers.push(Tensor::parse(b)?),
                _ => {}
            }
        }
        Ok(g)
    }

    /// The node with this name.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The initializer with this name.
    pub fn initializer(&self, name: &str) -> Option<&Tensor> {
        self.initializers.iter().find(|t| t.name == name)
    }

    /// The value of the `Constant` node producing `output`.
    pub fn constant(&self, output: &str) -> Option<&Tensor> {
        self.nodes
            .iter()
            .find(|n| n.op_type == "Constant" && n.outputs.iter().any(|o| o == output))
            .and_then(|n| n.value.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_input_is_an_error() {
        assert!(Graph::from_model_bytes(&[]).is_err());
        assert!(Graph::from_model_bytes(&[0x3a, 0x05, 0x01]).is_err()); // truncated graph
        assert!(Graph::from_model_bytes(&[0xff; 12]).is_err());
        assert!(Graph::from_model_bytes(&[0x0b]).is_err()); // group wire type
    }

    #[test]
    fn reads_a_hand_encoded_tensor() {
        // TensorProto { dims: [2], data_type: FLOAT, name: "w", raw_data: [1.0, -2.0] }
        let mut t = vec![0x08, 0x02, 0x10, 0x01, 0x42, 0x01, b'w', 0x4a, 0x08];
        t.extend(1.0f32.to_le_bytes());
        t.extend((-2.0f32).to_le_bytes());
        // GraphProto { initializer: t }
        let mut g = vec![0x2a, t.len() as u8];
        g.extend(&t);
        // ModelProto { graph: g }
        let mut m = vec![0x3a, g.len() as u8];
        m.extend(&g);
        let graph = Graph::from_model_bytes(&m).unwrap();
        let w = graph.initializer("w").unwrap();
        assert_eq!(w.dims, [2]);
        assert_eq!(w.floats().unwrap(), [1.0, -2.0]);
        assert!(w.ints().is_err());
    }
}
