//! The KServe v2 pieces shared by the HTTP and gRPC clients: the tensor
//! contract of `gender_ensemble` and the BYTES element encoding.

use serde_json::Value;

use super::RemoteError;

pub const INPUT: &str = "IMAGE_BYTES";
pub const OUTPUT: &str = "OUTPUT_JSON";

/// One tensor as a model's metadata describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub datatype: String,
    pub shape: Vec<i64>,
}

/// Checks that a model takes `IMAGE_BYTES` (BYTES) and gives `OUTPUT_JSON`
/// (BYTES); returns the shape one image is sent as ([1], or [1,1] for a
/// model that batches).
pub fn check_contract(inputs: &[TensorInfo], outputs: &[TensorInfo]) -> Result<Vec<i64>, String> {
    let input = bytes_tensor(inputs, INPUT, "input", "takes", "an encoded image")?;
    bytes_tensor(outputs, OUTPUT, "output", "gives", "JSON text")?;
    if inputs.len() != 1 {
        return Err(format!(
            "the model takes {} inputs ({}); GenderLens sends only {INPUT}",
            inputs.len(),
            describe(inputs)
        ));
    }
    Ok(match input.shape.as_slice() {
        [-1, 1] => vec![1, 1],
        _ => vec![1],
    })
}

/// The input shape a model wants, learnt from its metadata on first use and
/// kept. A server that cannot say, or a model with another contract, fails
/// the request here, before an image is sent in a shape it would not take.
pub fn learnt_shape(
    learnt: &std::sync::OnceLock<Vec<i64>>,
    metadata: impl FnOnce() -> Result<(Vec<TensorInfo>, Vec<TensorInfo>), RemoteError>,
) -> Result<Vec<i64>, RemoteError> {
    if let Some(shape) = learnt.get() {
        return Ok(shape.clone());
    }
    let (inputs, outputs) = metadata()?;
    let shape = check_contract(&inputs, &outputs)
        .map_err(|e| RemoteError::Denied(format!("the model does not fit: {e}")))?;
    Ok(learnt.get_or_init(|| shape).clone())
}

/// The "model contract" check from a model's metadata.
pub fn contract_check(
    metadata: Result<(Vec<TensorInfo>, Vec<TensorInfo>), RemoteError>,
) -> Result<String, String> {
    let (inputs, outputs) = metadata.map_err(|e| format!("no model metadata: {e}"))?;
    let shape = check_contract(&inputs, &outputs)?;
    Ok(format!(
        "takes {INPUT} {shape:?} and gives {OUTPUT}, as GenderLens expects"
    ))
}

/// `NAME (TYPE [shape]), …` for messages.
fn describe(tensors: &[TensorInfo]) -> String {
    tensors
        .iter()
        .map(|t| format!("{} ({} {:?})", t.name, t.datatype, t.shape))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tensor called `name`, which must be BYTES; the error names what the
/// model has instead.
fn bytes_tensor<'a>(
    tensors: &'a [TensorInfo],
    name: &str,
    role: &str,
    verb: &str,
    holding: &str,
) -> Result<&'a TensorInfo, String> {
    let tensor = tensors.iter().find(|t| t.name == name).ok_or_else(|| {
        format!(
            "the model has no {name} {role} (it {verb} {})",
            describe(tensors)
        )
    })?;
    if tensor.datatype != "BYTES" {
        return Err(format!(
            "{name} is {}, expected BYTES ({holding})",
            tensor.datatype
        ));
    }
    Ok(tensor)
}

/// One BYTES element on the wire: a little-endian u32 length, then the bytes.
pub fn encode_element(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 4);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
    out
}

/// The first BYTES element of a raw tensor.
pub fn first_element(raw: &[u8]) -> Result<&[u8], RemoteError> {
    let bad = |why: &str| RemoteError::Protocol(format!("{OUTPUT} is not a BYTES tensor: {why}"));
    let header: [u8; 4] = raw
        .get(..4)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| bad("shorter than its length prefix"))?;
    let len = u32::from_le_bytes(header) as usize;
    raw.get(4..4 + len)
        .ok_or_else(|| bad("its length prefix runs past the end"))
}

/// A model's inputs and outputs from its KServe v2 HTTP metadata JSON.
pub fn metadata_tensors(body: &[u8]) -> Result<(Vec<TensorInfo>, Vec<TensorInfo>), RemoteError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| RemoteError::Protocol(format!("model metadata is not JSON: {e}")))?;
    let tensors = |key: &str| -> Vec<TensorInfo> {
        value[key]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|t| TensorInfo {
                        name: t["name"].as_str().unwrap_or_default().into(),
                        datatype: t["datatype"].as_str().unwrap_or_default().into(),
                        shape: t["shape"]
                            .as_array()
                            .map(|s| s.iter().filter_map(Value::as_i64).collect())
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok((tensors("inputs"), tensors("outputs")))
}

/// `OUTPUT_JSON` from a KServe v2 HTTP inference answer, binary or JSON
/// encoded; `header_length` is its `Inference-Header-Content-Length`.
pub fn output_json(
    header_length: Option<usize>,
    body: &[u8],
    sent_id: Option<&str>,
) -> Result<Vec<u8>, RemoteError> {
    let split = header_length.unwrap_or(body.len()).min(body.len());
    let (header, mut binary) = body.split_at(split);
    let header: Value = serde_json::from_slice(header)
        .map_err(|e| RemoteError::Protocol(format!("the answer header is not JSON: {e}")))?;
    check_answer_id(sent_id, header["id"].as_str())?;
    let outputs = header["outputs"]
        .as_array()
        .ok_or_else(|| RemoteError::Protocol("the answer has no outputs".into()))?;
    for output in outputs {
        let size = output["parameters"]["binary_data_size"]
            .as_u64()
            .map(|n| n as usize);
        if output["name"] == OUTPUT {
            return match size {
                Some(size) => {
                    let raw = binary.get(..size).ok_or_else(|| {
                        RemoteError::Protocol("the answer is shorter than it says".into())
                    })?;
                    Ok(first_element(raw)?.to_vec())
                }
                None => output["data"][0]
                    .as_str()
                    .map(|s| s.as_bytes().to_vec())
                    .ok_or_else(|| RemoteError::Protocol(format!("{OUTPUT} holds no text"))),
            };
        }
        // Outputs before ours occupy the binary section in order.
        if let Some(size) = size {
            binary = binary.get(size..).unwrap_or_default();
        }
    }
    Err(RemoteError::Protocol(format!(
        "the answer has no {OUTPUT} output"
    )))
}

/// A server echoes a request's id in its answer; an answer that names
/// another request is not this photo's. (No id in the answer is fine: not
/// every server echoes it.)
pub fn check_answer_id(sent: Option<&str>, answered: Option<&str>) -> Result<(), RemoteError> {
    match (sent, answered) {
        (Some(sent), Some(answered)) if !answered.is_empty() && answered != sent => {
            Err(RemoteError::Protocol(format!(
                "the answer is for request {answered}, not for request {sent}"
            )))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, datatype: &str, shape: &[i64]) -> TensorInfo {
        TensorInfo {
            name: name.into(),
            datatype: datatype.into(),
            shape: shape.to_vec(),
        }
    }

    #[test]
    fn contract_accepts_the_ensemble_and_names_what_differs() {
        let input = [tensor(INPUT, "BYTES", &[1])];
        let output = [tensor(OUTPUT, "BYTES", &[1])];
        assert_eq!(check_contract(&input, &output), Ok(vec![1]));
        let batched = [tensor(INPUT, "BYTES", &[-1, 1])];
        assert_eq!(check_contract(&batched, &output), Ok(vec![1, 1]));
        let wrong = [tensor("INPUT__0", "FP32", &[-1, 3, 32, 32])];
        let err = check_contract(&wrong, &output).unwrap_err();
        assert!(
            err.contains("no IMAGE_BYTES input") && err.contains("INPUT__0"),
            "{err}"
        );
        let err = check_contract(&input, &[tensor(OUTPUT, "FP32", &[2])]).unwrap_err();
        assert!(err.contains("expected BYTES"), "{err}");
    }

    #[test]
    fn elements_round_trip_and_truncation_is_caught() {
        let wire = encode_element(b"hello");
        assert_eq!(&wire[..4], &[5, 0, 0, 0]);
        assert_eq!(first_element(&wire).unwrap(), b"hello");
        assert!(first_element(&wire[..6]).is_err());
        assert!(first_element(&[1, 0]).is_err());
    }

    #[test]
    fn binary_and_json_answers_both_give_output_json() {
        let header = br#"{"outputs":[{"name":"OTHER","parameters":{"binary_data_size":3}},{"name":"OUTPUT_JSON","parameters":{"binary_data_size":6}}]}"#;
        let mut body = header.to_vec();
        body.extend_from_slice(b"xyz");
        body.extend_from_slice(&encode_element(b"{}"));
        assert_eq!(output_json(Some(header.len()), &body, None).unwrap(), b"{}");
        let json = br#"{"outputs":[{"name":"OUTPUT_JSON","data":["{\"a\":1}"]}]}"#;
        assert_eq!(output_json(None, json, None).unwrap(), br#"{"a":1}"#);
        assert!(output_json(None, b"<html>", None).is_err());
    }

    #[test]
    fn an_answer_for_another_request_is_refused() {
        let json = br#"{"id":"gl-1","outputs":[{"name":"OUTPUT_JSON","data":["{}"]}]}"#;
        assert!(output_json(None, json, Some("gl-1")).is_ok());
        assert!(output_json(None, json, None).is_ok());
        let error = output_json(None, json, Some("gl-2")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("request gl-1, not for request gl-2"),
            "{error}"
        );
        let unnamed = br#"{"outputs":[{"name":"OUTPUT_JSON","data":["{}"]}]}"#;
        assert!(output_json(None, unnamed, Some("gl-2")).is_ok());
    }
}
