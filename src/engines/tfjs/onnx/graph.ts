import onnxProto, { type onnx as P } from 'onnx-proto';

// onnx-proto is a CommonJS module: its namespace comes through the default export.
const { onnx } = onnxProto;

// An ONNX graph under construction: nodes, initialisers (weights as raw little-endian bytes) and
// fresh value names. Encoded with onnx-proto, the ONNX project's own protobuf definition.

export type Attr = number | readonly number[] | string;

/** The ONNX IR version and operator set tlr writes (ONNX 1.12: IR 8, opset 17). */
export const IR_VERSION = 8;
export const OPSET = 17;

const bytes = (a: Float32Array | BigInt64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function attribute(name: string, v: Attr): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number')
    return Number.isInteger(v) && name !== 'alpha' && name !== 'gamma' && name !== 'beta'
      ? { name, type: T.INT, i: v }
      : { name, type: T.FLOAT, f: v };
  return { name, type: T.INTS, ints: [...v] };
}

export class OnnxGraph {
  readonly nodes: P.INodeProto[] = [];
  readonly initializers: P.ITensorProto[] = [];
  private n = 0;

  /** A fresh value name. */
  name(hint: string): string {
    return `${hint}_${this.n++}`;
  }

  /** A float32 constant. */
  float(hint: string, data: Float32Array, dims: readonly number[]): string {
    const name = this.name(hint);
    this.initializers.push({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [...dims], rawData: bytes(data) });
    return name;
  }

  /** An int64 constant (pads, shapes, axes, slice bounds). */
  int64(hint: string, values: readonly number[]): string {
    const name = this.name(hint);
    this.initializers.push({
      name,
      dataType: onnx.TensorProto.DataType.INT64,
      dims: [values.length],
      rawData: bytes(BigInt64Array.from(values, (v) => BigInt(v))),
    });
    return name;
  }

  /** Adds a node; returns its (first) output's name. */
  node(op: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, hint = op.toLowerCase()): string {
    const out = this.name(hint);
    this.nodes.push({
      opType: op,
      name: out,
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /**
   * A model whose float32 inputs and outputs have fixed shapes and the names given: a kernel run
   * on ONNX Runtime (see kernels/ort-kernels.ts). Inputs are used by name in the nodes; each output
   * is the value named in `outputs`, passed through an Identity node.
   */
  encodeFixed(
    inputs: Record<string, readonly number[]>,
    outputs: Record<string, { value: string; shape: readonly number[] }>,
  ): Uint8Array {
    const value = (name: string, shape: readonly number[]): P.IValueInfoProto => ({
      name,
      type: {
        tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } },
      },
    });
    const ident = Object.entries(outputs).map(([name, o]) => ({
      opType: 'Identity',
      input: [o.value],
      output: [name],
      name: `${name}_identity`,
    }));
    const model: P.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'tlr',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: 'kernel',
        node: [...this.nodes, ...ident],
        initializer: this.initializers,
        input: Object.entries(inputs).map(([n, s]) => value(n, s)),
        output: Object.entries(outputs).map(([n, o]) => value(n, o.shape)),
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }

  /** The model: one float32 input and output, NHWC at the boundary, a dynamic batch axis. */
  encode(
    io: { input: string; output: string; inputShape: readonly number[]; outputShape: readonly number[] },
    metadata: Record<string, string>,
    producerVersion: string,
  ): Uint8Array {
    const value = (name: string, shape: readonly number[]): P.IValueInfoProto => ({
      name,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: [{ dimParam: 'batch' }, ...shape.map((d) => ({ dimValue: d }))] },
        },
      },
    });
    const model: P.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'tlr',
      producerVersion,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: 'tlr',
        node: this.nodes,
        initializer: this.initializers,
        input: [value('input', io.inputShape)],
        output: [value('output', io.outputShape)],
      },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    };
    // The boundary names are fixed: a Identity node each way keeps the internal names free.
    model.graph!.node = [
      { opType: 'Identity', input: ['input'], output: [io.input], name: 'input_identity' },
      ...this.nodes,
      { opType: 'Identity', input: [io.output], output: ['output'], name: 'output_identity' },
    ];
    return onnx.ModelProto.encode(model).finish();
  }
}
