//! Which execution provider really received a session's nodes, read from
//! ONNX Runtime's graph-assignment info (C API 24+, not wrapped by ort).

use std::collections::BTreeMap;
use std::ffi::CStr;

use anyhow::{Result, bail};
use ort::AsPointer;
use ort::session::Session;

/// The session config key that makes ONNX Runtime record the assignment.
pub const RECORD_ASSIGNMENT_KEY: &str = "session.record_ep_graph_assignment_info";

/// Nodes per execution provider, e.g. `{"CPUExecutionProvider": 26}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EpAssignment {
    pub nodes_by_provider: BTreeMap<String, usize>,
}

impl EpAssignment {
    /// The provider holding the most nodes.
    pub fn primary(&self) -> Option<&str> {
        self.nodes_by_provider
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(name, _)| name.as_str())
    }

    pub fn uses_gpu(&self) -> bool {
        self.nodes_by_provider
            .keys()
            .any(|p| p != "CPUExecutionProvider")
    }
}

impl std::fmt::Display for EpAssignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .nodes_by_provider
            .iter()
            .map(|(ep, n)| format!("{ep} ({n} nodes)"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

fn check(status: ort::sys::OrtStatusPtr) -> Result<()> {
    if status.0.is_null() {
        return Ok(());
    }
    let api = ort::api();
    // SAFETY: a non-null status owns a message until it is released here.
    let message = unsafe {
        let text = CStr::from_ptr((api.GetErrorMessage)(status.0))
            .to_string_lossy()
            .into_owned();
        (api.ReleaseStatus)(status.0);
        text
    };
    bail!("{message}")
}

fn read_str(
    get: impl FnOnce(*mut *const std::ffi::c_char) -> ort::sys::OrtStatusPtr,
) -> Result<String> {
    let mut out: *const std::ffi::c_char = std::ptr::null();
    check(get(&mut out))?;
    if out.is_null() {
        return Ok(String::new());
    }
    // SAFETY: ONNX Runtime returns a NUL-terminated string owned by the session.
    Ok(unsafe { CStr::from_ptr(out) }
        .to_string_lossy()
        .into_owned())
}

/// Reads the assignment of a session committed with [`RECORD_ASSIGNMENT_KEY`] set.
pub fn ep_assignment(session: &Session) -> Result<EpAssignment> {
    let api = ort::api();
    let mut subgraphs: *const *const ort::sys::OrtEpAssignedSubgraph = std::ptr::null();
    let mut count = 0usize;
    // SAFETY: the session pointer is live for the borrow; the returned arrays
    // are owned by the session and only read here.
    unsafe {
        check((api.Session_GetEpGraphAssignmentInfo)(
            session.ptr(),
            &mut subgraphs,
            &mut count,
        ))?;
    }
    let mut assignment = EpAssignment::default();
    for i in 0..count {
        // SAFETY: `i < count` entries are valid.
        let subgraph = unsafe { *subgraphs.add(i) };
        // SAFETY: `subgraph` is one of the session's live entries; ONNX
        // Runtime writes a string pointer it owns into `out`.
        let name = read_str(|out| unsafe { (api.EpAssignedSubgraph_GetEpName)(subgraph, out) })?;
        let mut nodes: *const *const ort::sys::OrtEpAssignedNode = std::ptr::null();
        let mut node_count = 0usize;
        // SAFETY: as above; the node array stays owned by the session and is only counted.
        unsafe {
            check((api.EpAssignedSubgraph_GetNodes)(
                subgraph,
                &mut nodes,
                &mut node_count,
            ))?;
        }
        *assignment.nodes_by_provider.entry(name).or_default() += node_count;
    }
    if assignment.nodes_by_provider.is_empty() {
        bail!("ONNX Runtime recorded no graph assignment for this session");
    }
    Ok(assignment)
}
