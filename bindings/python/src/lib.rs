//! `support_access._native`: the pyo3 extension behind the `support_access` Python package.
//!
//! Everything here converts at the edge and calls the core (`support-access-core`); no policy
//! rule lives in this crate. Python-side pieces (enums, exception classes, datetime helpers) live
//! in `python/support_access/` and are looked up once and cached.
//!
//! Threading: a `Policy` is a frozen pyclass holding a `Mutex<Policy>`. Python objects are only
//! touched before taking the lock or after releasing it, and a contended lock is waited for
//! with the GIL released, so no thread ever blocks on the lock while holding the GIL that the
//! lock holder might need. `evaluate_many` on large batches runs without the GIL.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{SystemTime, UNIX_EPOCH};

use hashbrown::HashMap;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString, PyTuple};
use support_access_core as sa;

// ---------------------------------------------------------------------------------------------
// Cached Python objects
// ---------------------------------------------------------------------------------------------

struct Cache {
    /// The members of each SPEC enum, by [`PyEnum::SLOT`], each in the core's `ALL` order.
    enums: [Vec<Py<PyAny>>; 5],
    from_core: Py<PyAny>,
    to_ms: Py<PyAny>,
    from_ms: Py<PyAny>,
    duration_to_ms: Py<PyAny>,
    ms_to_duration: Py<PyAny>,
    json_loads: Py<PyAny>,
    json_dumps: Py<PyAny>,
    datetime_type: Py<PyAny>,
    utc: Py<PyAny>,
}

static CACHE: PyOnceLock<Cache> = PyOnceLock::new();

/// A SPEC enum with its Python class in `support_access._enums` (named as the core's type).
trait PyEnum: sa::vocab::Spec {
    const CLASS: &'static str;
    /// Its place in [`Cache::enums`].
    const SLOT: usize;
}

macro_rules! py_enums {
    ($($t:ident = $slot:literal),+) => {
        $(impl PyEnum for sa::$t {
            const CLASS: &'static str = stringify!($t);
            const SLOT: usize = $slot;
        })+
        /// Every enum's members, by slot.
        fn all_members(enums: &Bound<'_, PyModule>) -> PyResult<[Vec<Py<PyAny>>; 5]> {
            Ok([$(members::<sa::$t>(enums)?),+])
        }
    };
}

py_enums!(
    GrantType = 0,
    Resource = 1,
    Reason = 2,
    ClusterKind = 3,
    RoleName = 4
);

/// The Python members of `T`, in the core's `ALL` order (so `value.index()` indexes).
fn members<T: PyEnum>(enums: &Bound<'_, PyModule>) -> PyResult<Vec<Py<PyAny>>> {
    let cls = enums.getattr(T::CLASS)?;
    T::ALL
        .iter()
        .map(|v| cls.call1((v.as_str(),)).map(Bound::unbind))
        .collect::<PyResult<Vec<_>>>()
        .map_err(|e| {
            PyTypeError::new_err(format!(
                "support_access: enum {} is out of sync with the core: {e}",
                T::CLASS
            ))
        })
}

fn cache(py: Python<'_>) -> PyResult<&'static Cache> {
    CACHE.get_or_try_init(py, || {
        let errors = py.import("support_access._errors")?;
        let convert = py.import("support_access._convert")?;
        let json = py.import("json")?;
        let datetime = py.import("datetime")?;
        Ok::<_, PyErr>(Cache {
            enums: all_members(&py.import("support_access._enums")?)?,
            from_core: errors.getattr("_from_core")?.unbind(),
            to_ms: convert.getattr("to_ms")?.unbind(),
            from_ms: convert.getattr("from_ms")?.unbind(),
            duration_to_ms: convert.getattr("duration_to_ms")?.unbind(),
            ms_to_duration: convert.getattr("ms_to_duration")?.unbind(),
            json_loads: json.getattr("loads")?.unbind(),
            json_dumps: json.getattr("dumps")?.unbind(),
            datetime_type: datetime.getattr("datetime")?.unbind(),
            utc: datetime.getattr("timezone")?.getattr("utc")?.unbind(),
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// The typed Python exception (`support_access._errors`) for a core error.
fn py_err(py: Python<'_>, e: &sa::Error) -> PyErr {
    let c = match cache(py) {
        Ok(c) => c,
        Err(err) => return err,
    };
    let d = sa::ffi::ErrorData::from(e);
    let args = (
        d.code.as_str(),
        d.message,
        d.seq,
        d.reason.map(sa::Reason::as_str),
    );
    match c.from_core.call1(py, args) {
        Ok(exc) => PyErr::from_value(exc.into_bound(py)),
        Err(err) => err,
    }
}

/// The core's `MALFORMED_INPUT` for what this edge finds wrong itself (`ffi::malformed`).
fn malformed_err(py: Python<'_>, detail: String) -> PyErr {
    py_err(py, &sa::ffi::malformed(detail))
}

trait OrPy<T> {
    fn or_py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrPy<T> for Result<T, sa::Error> {
    fn or_py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| py_err(py, &e))
    }
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

extern "C" {
    // Part of the stable ABI only from 3.10, but exported by every CPython 3 (it is how
    // `str` caches its UTF-8 form), so it is there at run time on 3.9 too. pyo3 only declares
    // it for abi3-py310+, and its abi3-py39 fallback copies every string into a new `bytes`.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

/// A `str`'s UTF-8 text without copying (CPython keeps it alive with the object).
fn text<'a>(s: &'a Bound<'_, PyString>) -> PyResult<Cow<'a, str>> {
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str` (the GIL is held: we have a `Bound`); on success the returned
    // buffer is owned by `s`, valid UTF-8, `size` bytes long, and lives as long as `s`.
    let data = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
    if data.is_null() {
        return Err(PyErr::fetch(s.py()));
    }
    let len = usize::try_from(size).unwrap_or(0);
    // SAFETY: see above.
    let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
    // SAFETY: CPython's UTF-8 cache of a `str` is always valid UTF-8.
    Ok(Cow::Borrowed(unsafe {
        std::str::from_utf8_unchecked(bytes)
    }))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| String::from("object"))
}

/// `r` (the conversion of arguments read after `cluster`); if it failed with a conversion
/// error (`ValueError`, `TypeError`; not an interrupt or a host's own error), the core's error
/// for `cluster` instead when the core says that one wins (`ffi::cluster_error_first`).
fn after_cluster<T>(py: Python<'_>, cluster: &str, r: PyResult<T>) -> PyResult<T> {
    r.map_err(|e| match sa::ffi::cluster_error_first(cluster) {
        Some(ce) if e.is_instance_of::<PyValueError>(py) || e.is_instance_of::<PyTypeError>(py) => {
            py_err(py, &ce)
        }
        _ => e,
    })
}

/// A SPEC enum from one of its Python members (pointer compare) or its string.
fn spec_arg<T: PyEnum>(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<T> {
    let ptr = obj.as_ptr();
    if let Some(i) = cache(py)?.enums[T::SLOT]
        .iter()
        .position(|m| m.as_ptr() == ptr)
    {
        return Ok(T::ALL[i]);
    }
    match obj.cast::<PyString>() {
        Ok(s) => sa::model::parse_spec(&text(s)?).or_py(py),
        Err(_) => Err(PyTypeError::new_err(format!(
            "expected a {} or its string, got {}",
            T::CLASS,
            type_name(obj)
        ))),
    }
}

/// The Python member of a SPEC enum value.
fn spec_obj<T: PyEnum>(py: Python<'_>, v: T) -> PyResult<Py<PyAny>> {
    Ok(cache(py)?.enums[T::SLOT][v.index()].clone_ref(py))
}

fn datetime_obj(py: Python<'_>, t: sa::Timestamp) -> PyResult<Py<PyAny>> {
    cache(py)?.from_ms.call1(py, (t.millis(),))
}

fn opt_datetime_obj(py: Python<'_>, t: Option<sa::Timestamp>) -> PyResult<Option<Py<PyAny>>> {
    t.map(|t| datetime_obj(py, t)).transpose()
}

fn duration_obj(py: Python<'_>, ms: i64) -> PyResult<Py<PyAny>> {
    cache(py)?.ms_to_duration.call1(py, (ms,))
}

fn current_time(py: Python<'_>) -> PyResult<sa::Timestamp> {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    sa::Timestamp::from_millis(i64::try_from(ms).unwrap_or(i64::MAX)).or_py(py)
}

fn bad_millis(py: Python<'_>, value: String) -> PyErr {
    py_err(py, &sa::ffi::millis_out_of_range(&value))
}

/// A time argument: `None` (now, UTC), integer epoch ms, an RFC 3339 string, or an aware
/// `datetime`. `bool` is refused (it is an `int` in Python, but never a time).
fn time_arg(py: Python<'_>, obj: Option<&Bound<'_, PyAny>>) -> PyResult<sa::Timestamp> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return current_time(py);
    };
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(
            "a bool is not a time: pass an aware datetime, an RFC 3339 string or integer epoch milliseconds",
        ));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        return match i.extract::<i64>() {
            Ok(ms) => sa::Timestamp::from_millis(ms).or_py(py),
            Err(_) => Err(bad_millis(py, i.to_string())),
        };
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return sa::Timestamp::parse_rfc3339(&text(s)?).or_py(py);
    }
    if let Some(t) = utc_datetime(py, obj)? {
        return Ok(t);
    }
    let ms = cache(py)?.to_ms.call1(py, (obj,))?;
    let ms = ms.bind(py);
    match ms.extract::<i64>() {
        Ok(ms) => sa::Timestamp::from_millis(ms).or_py(py),
        Err(_) => Err(bad_millis(py, ms.to_string())),
    }
}

/// The fast path for the commonest aware time, an exact `datetime` with `tzinfo=timezone.utc`
/// (e.g. `datetime.now(timezone.utc)`): its fields, without a round trip through Python code.
/// Anything else (other zones, subclasses, naive) returns `None` for the general conversion.
/// The calendar arithmetic and its range check are the core's (`ffi::timestamp_civil`).
fn utc_datetime(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Option<sa::Timestamp>> {
    let c = cache(py)?;
    if !obj.get_type().is(c.datetime_type.bind(py))
        || !obj.getattr(intern!(py, "tzinfo"))?.is(c.utc.bind(py))
    {
        return Ok(None);
    }
    let field = |name: &Bound<'_, PyString>| -> PyResult<i64> { obj.getattr(name)?.extract() };
    sa::ffi::timestamp_civil(
        field(intern!(py, "year"))?,
        field(intern!(py, "month"))?,
        field(intern!(py, "day"))?,
        field(intern!(py, "hour"))?,
        field(intern!(py, "minute"))?,
        field(intern!(py, "second"))?,
        field(intern!(py, "microsecond"))?,
    )
    .map(Some)
    .or_py(py)
}

fn req_time_arg(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<sa::Timestamp> {
    if obj.is_none() {
        return Err(PyTypeError::new_err(
            "a time is required here (None does not mean now)",
        ));
    }
    time_arg(py, Some(obj))
}

fn opt_time_arg(py: Python<'_>, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<sa::Timestamp>> {
    match obj {
        Some(o) if !o.is_none() => Ok(Some(time_arg(py, Some(o))?)),
        _ => Ok(None),
    }
}

fn actor_arg(obj: &Bound<'_, PyAny>) -> PyResult<sa::Actor> {
    match obj.cast::<Actor>() {
        Ok(a) => Ok(a.get().inner.clone()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "expected an Actor, got {}",
            type_name(obj)
        ))),
    }
}

fn json_obj(py: Python<'_>, json: &str) -> PyResult<Py<PyAny>> {
    cache(py)?.json_loads.call1(py, (json,))
}

fn to_json_value(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<serde_json::Value> {
    let text = cache(py)?.json_dumps.call1(py, (obj,)).map_err(|e| {
        PyTypeError::new_err(format!(
            "{what} must be JSON-serializable (dicts, lists, str, numbers, bool, None): {e}"
        ))
    })?;
    let text: String = text.extract(py)?;
    serde_json::from_str(&text)
        .map_err(|e| malformed_err(py, format!("{what} is not valid JSON: {e}")))
}

fn repr_time(t: sa::Timestamp) -> String {
    format!("'{t}'")
}

fn repr_str(s: &str) -> String {
    // Python-style single-quoted repr for the plain ids we print.
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

// ---------------------------------------------------------------------------------------------
// Role, Actor
// ---------------------------------------------------------------------------------------------

/// One role an actor holds; project roles name their project.
#[pyclass(frozen, eq, hash, skip_from_py_object, module = "support_access")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Role {
    inner: sa::Role,
}

/// A role of a project.
fn project_role(
    py: Python<'_>,
    name: sa::RoleName,
    project_id: &Bound<'_, PyString>,
) -> PyResult<Role> {
    let inner = sa::Role::new(name, Some(&text(project_id)?)).or_py(py)?;
    Ok(Role { inner })
}

#[pymethods]
impl Role {
    #[new]
    #[pyo3(signature = (name, project_id = None))]
    fn new(
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        project_id: Option<&Bound<'_, PyString>>,
    ) -> PyResult<Role> {
        let name = spec_arg(py, name)?;
        let project = project_id.map(text).transpose()?;
        Ok(Role {
            inner: sa::Role::new(name, project.as_deref()).or_py(py)?,
        })
    }

    /// `ORG_OWNER`.
    #[staticmethod]
    fn org_owner() -> Role {
        Role {
            inner: sa::Role::OrgOwner,
        }
    }

    /// `PROJECT_OWNER` of a project.
    #[staticmethod]
    fn project_owner(py: Python<'_>, project_id: &Bound<'_, PyString>) -> PyResult<Role> {
        project_role(py, sa::RoleName::ProjectOwner, project_id)
    }

    /// `PROJECT_SUPPORT_ACCESS_MANAGER` of a project.
    #[staticmethod]
    fn support_access_manager(py: Python<'_>, project_id: &Bound<'_, PyString>) -> PyResult<Role> {
        project_role(py, sa::RoleName::ProjectSupportAccessManager, project_id)
    }

    /// `PROJECT_READ_ONLY` of a project.
    #[staticmethod]
    fn read_only(py: Python<'_>, project_id: &Bound<'_, PyString>) -> PyResult<Role> {
        project_role(py, sa::RoleName::ProjectReadOnly, project_id)
    }

    #[getter]
    fn name(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        spec_obj(py, self.inner.name())
    }

    #[getter]
    fn project_id(&self) -> Option<&str> {
        self.inner.project_id()
    }

    fn __repr__(&self) -> String {
        match self.inner.project_id() {
            None => format!("Role(RoleName.{})", self.inner.name()),
            Some(p) => format!("Role(RoleName.{}, {})", self.inner.name(), repr_str(p)),
        }
    }
}

/// The person or API key asking for a change: an id and its roles.
#[pyclass(frozen, eq, hash, skip_from_py_object, module = "support_access")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Actor {
    inner: sa::Actor,
}

fn actor_with(py: Python<'_>, id: &Bound<'_, PyString>, role: sa::Role) -> PyResult<Actor> {
    Ok(Actor {
        inner: sa::Actor::new(&text(id)?, vec![role]).or_py(py)?,
    })
}

/// An actor holding one project role.
fn project_actor(
    py: Python<'_>,
    id: &Bound<'_, PyString>,
    name: sa::RoleName,
    project_id: &Bound<'_, PyString>,
) -> PyResult<Actor> {
    actor_with(py, id, project_role(py, name, project_id)?.inner)
}

#[pymethods]
impl Actor {
    #[new]
    #[pyo3(signature = (id, roles = None))]
    fn new(
        py: Python<'_>,
        id: &Bound<'_, PyString>,
        roles: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Actor> {
        let mut out = Vec::new();
        if let Some(roles) = roles {
            if roles.is_instance_of::<PyString>() {
                return Err(PyTypeError::new_err(
                    "roles must be an iterable of Role, not a string",
                ));
            }
            for r in roles.try_iter()? {
                let r = r?;
                match r.cast::<Role>() {
                    Ok(role) => out.push(role.get().inner.clone()),
                    Err(_) => {
                        return Err(PyTypeError::new_err(format!(
                            "roles must hold Role objects, got {}",
                            type_name(&r)
                        )))
                    }
                }
            }
        }
        Ok(Actor {
            inner: sa::Actor::new(&text(id)?, out).or_py(py)?,
        })
    }

    /// An organization owner.
    #[staticmethod]
    fn org_owner(py: Python<'_>, id: &Bound<'_, PyString>) -> PyResult<Actor> {
        actor_with(py, id, sa::Role::OrgOwner)
    }

    /// A project owner.
    #[staticmethod]
    fn project_owner(
        py: Python<'_>,
        id: &Bound<'_, PyString>,
        project_id: &Bound<'_, PyString>,
    ) -> PyResult<Actor> {
        project_actor(py, id, sa::RoleName::ProjectOwner, project_id)
    }

    /// A project's support access manager.
    #[staticmethod]
    fn support_access_manager(
        py: Python<'_>,
        id: &Bound<'_, PyString>,
        project_id: &Bound<'_, PyString>,
    ) -> PyResult<Actor> {
        project_actor(
            py,
            id,
            sa::RoleName::ProjectSupportAccessManager,
            project_id,
        )
    }

    /// A project's read-only member.
    #[staticmethod]
    fn read_only(
        py: Python<'_>,
        id: &Bound<'_, PyString>,
        project_id: &Bound<'_, PyString>,
    ) -> PyResult<Actor> {
        project_actor(py, id, sa::RoleName::ProjectReadOnly, project_id)
    }

    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    #[getter]
    fn roles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.inner.roles.iter().map(|r| Role { inner: r.clone() }),
        )
    }

    fn __repr__(&self) -> String {
        let roles: Vec<String> = self
            .inner
            .roles
            .iter()
            .map(|r| Role { inner: r.clone() }.__repr__())
            .collect();
        let trailing = if roles.len() == 1 { "," } else { "" };
        format!(
            "Actor({}, roles=({}{}))",
            repr_str(&self.inner.id),
            roles.join(", "),
            trailing
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Decision, Event, Grant, Cluster, LoadSummary
// ---------------------------------------------------------------------------------------------

/// The answer to one question (SPEC section 4).
#[pyclass(frozen, eq, hash, skip_from_py_object, module = "support_access")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Decision {
    inner: sa::Decision,
}

#[pymethods]
impl Decision {
    /// May support reach the resource?
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.allowed
    }

    /// Which rule decided.
    #[getter]
    fn reason(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        spec_obj(py, self.inner.reason)
    }

    /// The active grant's type, if the cluster holds one at the time asked about.
    #[getter]
    fn grant_type(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.inner.grant_type.map(|g| spec_obj(py, g)).transpose()
    }

    /// The active grant's expiration (aware UTC datetime).
    #[getter]
    fn expiration_time(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        opt_datetime_obj(py, self.inner.expiration_time)
    }

    /// Time left on the active grant.
    #[getter]
    fn remaining(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.inner
            .remaining_ms
            .map(|ms| duration_obj(py, ms))
            .transpose()
    }

    /// Milliseconds left on the active grant.
    #[getter]
    fn remaining_ms(&self) -> Option<i64> {
        self.inner.remaining_ms
    }

    /// The decision as the JSON command interface writes it.
    fn to_json(&self) -> String {
        serde_json::to_string(&self.inner).unwrap_or_default()
    }

    fn __bool__(&self) -> bool {
        self.inner.allowed
    }

    fn __repr__(&self) -> String {
        let d = &self.inner;
        let mut s = format!(
            "Decision(allowed={}, reason=Reason.{}",
            if d.allowed { "True" } else { "False" },
            d.reason
        );
        if let Some(g) = d.grant_type {
            let _ = write!(s, ", grant_type=GrantType.{g}");
        }
        if let Some(t) = d.expiration_time {
            let _ = write!(s, ", expiration_time={}", repr_time(t));
        }
        if let Some(ms) = d.remaining_ms {
            let _ = write!(s, ", remaining_ms={ms}");
        }
        s.push(')');
        s
    }
}

/// One event of the record.
#[pyclass(frozen, eq, hash, skip_from_py_object, module = "support_access")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Event {
    inner: sa::Event,
}

const COMMON_KEYS: [&str; 6] = ["seq", "at", "actor", "type", "prev", "hash"];

#[pymethods]
impl Event {
    /// Position in the record, from 1.
    #[getter]
    fn seq(&self) -> u64 {
        self.inner.seq
    }

    /// When it happened (aware UTC datetime).
    #[getter]
    fn at(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        datetime_obj(py, self.inner.at)
    }

    /// Who caused it (`None` for creation, expiry, downloads and Atlas loads).
    #[getter]
    fn actor(&self) -> Option<Actor> {
        self.inner.actor.clone().map(|inner| Actor { inner })
    }

    /// The SPEC event type, e.g. `EMPLOYEE_ACCESS_GRANTED`.
    #[getter]
    fn r#type(&self) -> &'static str {
        self.inner.kind.type_name()
    }

    /// The type's own fields (camelCase keys, as in the record).
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let all = json_obj(py, self.inner.json())?.into_bound(py);
        let dict = all.cast_into::<PyDict>()?;
        for k in COMMON_KEYS {
            dict.del_item(k)?;
        }
        Ok(dict)
    }

    /// The previous event's hash.
    #[getter]
    fn prev(&self) -> &str {
        &self.inner.prev
    }

    /// This event's hash (SHA-256, lowercase hex).
    #[getter]
    fn hash(&self) -> &str {
        &self.inner.hash
    }

    /// The canonical JSON line, exactly as exported.
    #[getter]
    fn json(&self) -> &str {
        self.inner.json()
    }

    /// The whole event as a dict (parsed from its JSON line).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(json_obj(py, self.inner.json())?.into_bound(py))
    }

    fn __repr__(&self) -> String {
        let e = &self.inner;
        let mut s = format!(
            "Event(seq={}, type={}, at={}",
            e.seq,
            repr_str(e.kind.type_name()),
            repr_time(e.at)
        );
        if let Some(a) = &e.actor {
            let _ = write!(s, ", actor={}", repr_str(&a.id));
        }
        if let Ok(serde_json::Value::Object(m)) =
            serde_json::from_str::<serde_json::Value>(e.json())
        {
            for key in [
                "cluster",
                "projectId",
                "grantType",
                "expirationTime",
                "resource",
                "downloadId",
            ] {
                if let Some(serde_json::Value::String(v)) = m.get(key) {
                    let _ = write!(s, ", {key}={}", repr_str(v));
                }
            }
        }
        s.push(')');
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GrantData {
    cluster: String,
    grant_type: sa::GrantType,
    expiration: sa::Timestamp,
    granted_at: Option<sa::Timestamp>,
    granted_by: Option<String>,
    replaced: Option<Box<GrantData>>,
    event: Option<sa::Event>,
}

impl GrantData {
    /// The grant active on `c` at `now`, if any.
    fn active(c: &sa::Cluster, now: sa::Timestamp) -> Option<GrantData> {
        let g = c.grant.as_ref().filter(|g| g.is_active(now))?;
        Some(GrantData {
            cluster: c.name.clone(),
            grant_type: g.grant_type,
            expiration: g.expiration,
            granted_at: Some(g.granted_at),
            granted_by: g.granted_by.clone(),
            replaced: None,
            event: None,
        })
    }
}

/// A support-access grant on a cluster.
#[pyclass(frozen, eq, hash, skip_from_py_object, module = "support_access")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Grant {
    data: GrantData,
}

#[pymethods]
impl Grant {
    /// The cluster.
    #[getter]
    fn cluster(&self) -> &str {
        &self.data.cluster
    }

    /// What it covers.
    #[getter]
    fn grant_type(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        spec_obj(py, self.data.grant_type)
    }

    /// When it ends on its own (exclusive).
    #[getter]
    fn expiration_time(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        datetime_obj(py, self.data.expiration)
    }

    /// When it was made (`None` if unknown).
    #[getter]
    fn granted_at(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        opt_datetime_obj(py, self.data.granted_at)
    }

    /// Who made it (`None` when loaded from Atlas JSON or unknown).
    #[getter]
    fn granted_by(&self) -> Option<&str> {
        self.data.granted_by.as_deref()
    }

    /// For a re-grant: the active grant it replaced.
    #[getter]
    fn replaced(&self) -> Option<Grant> {
        self.data.replaced.as_ref().map(|g| Grant {
            data: (**g).clone(),
        })
    }

    /// For the result of `Policy.grant`: the recorded `EMPLOYEE_ACCESS_GRANTED` event.
    #[getter]
    fn event(&self) -> Option<Event> {
        self.data.event.clone().map(|inner| Event { inner })
    }

    fn __repr__(&self) -> String {
        let g = &self.data;
        let mut s = format!(
            "Grant(cluster={}, grant_type=GrantType.{}, expiration_time={}",
            repr_str(&g.cluster),
            g.grant_type,
            repr_time(g.expiration)
        );
        if let Some(t) = g.granted_at {
            let _ = write!(s, ", granted_at={}", repr_time(t));
        }
        if let Some(b) = &g.granted_by {
            let _ = write!(s, ", granted_by={}", repr_str(b));
        }
        if let Some(r) = &g.replaced {
            let _ = write!(
                s,
                ", replaced={}",
                Grant {
                    data: (**r).clone()
                }
                .__repr__()
            );
        }
        s.push(')');
        s
    }
}

/// A cluster, with the grant active at the time it was described.
#[pyclass(frozen, eq, hash, skip_from_py_object, module = "support_access")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Cluster {
    name: String,
    project_id: String,
    kind: sa::ClusterKind,
    sync: bool,
    grant: Option<GrantData>,
}

#[pymethods]
impl Cluster {
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    #[getter]
    fn project_id(&self) -> &str {
        &self.project_id
    }

    #[getter]
    fn kind(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        spec_obj(py, self.kind)
    }

    #[getter]
    fn app_services_sync_enabled(&self) -> bool {
        self.sync
    }

    /// The grant active at the time asked about, or `None`.
    #[getter]
    fn grant(&self) -> Option<Grant> {
        self.grant.clone().map(|data| Grant { data })
    }

    fn __repr__(&self) -> String {
        let mut s = format!(
            "Cluster(name={}, project_id={}, kind=ClusterKind.{}, app_services_sync_enabled={}",
            repr_str(&self.name),
            repr_str(&self.project_id),
            self.kind,
            if self.sync { "True" } else { "False" }
        );
        if let Some(g) = &self.grant {
            let _ = write!(s, ", grant={}", Grant { data: g.clone() }.__repr__());
        }
        s.push(')');
        s
    }
}

/// What `Policy.load_atlas` loaded.
#[pyclass(
    frozen,
    eq,
    hash,
    get_all,
    skip_from_py_object,
    module = "support_access"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct LoadSummary {
    /// Projects created for `groupId`s not seen before.
    projects: usize,
    /// Clusters loaded.
    clusters: usize,
    /// Grants loaded (still in force).
    grants: usize,
    /// Grants skipped because they had already expired.
    expired_grants_skipped: usize,
}

#[pymethods]
impl LoadSummary {
    fn __repr__(&self) -> String {
        format!(
            "LoadSummary(projects={}, clusters={}, grants={}, expired_grants_skipped={})",
            self.projects, self.clusters, self.grants, self.expired_grants_skipped
        )
    }
}

fn event_grant(e: &sa::Event, actor: &sa::Actor) -> Option<GrantData> {
    let sa::EventKind::EmployeeAccessGranted {
        cluster,
        grant_type,
        expiration_time,
        replaced,
    } = &e.kind
    else {
        return None;
    };
    Some(GrantData {
        cluster: cluster.clone(),
        grant_type: *grant_type,
        expiration: *expiration_time,
        granted_at: Some(e.at),
        granted_by: Some(actor.id.clone()),
        replaced: replaced.as_ref().map(|r| {
            Box::new(GrantData {
                cluster: cluster.clone(),
                grant_type: r.grant_type,
                expiration: r.expiration_time,
                granted_at: Some(r.granted_at),
                granted_by: None,
                replaced: None,
                event: None,
            })
        }),
        event: Some(e.clone()),
    })
}

// ---------------------------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------------------------

/// How long a grant may last: `timedelta`, or `None` for no bound; omitted = the core's default.
enum MaxDuration {
    Default,
    Set(Option<i64>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for MaxDuration {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_none() {
            return Ok(MaxDuration::Set(None));
        }
        let py = obj.py();
        let ms = cache(py)?.duration_to_ms.call1(py, (obj,))?;
        Ok(MaxDuration::Set(Some(ms.extract(py)?)))
    }
}

/// One organization's support-access policy and its tamper-evident record.
///
/// `Policy(org_id, *, restrict_employee_access=False, max_grant_duration=timedelta(hours=24),
/// now=None)`: `now` is the creation time (its `POLICY_CREATED` event's, before which no change
/// is accepted); `None` leaves it at 1970-01-01T00:00:00Z.
#[pyclass(frozen, module = "support_access")]
struct Policy {
    inner: Mutex<sa::Policy>,
}

impl Policy {
    fn wrap(p: sa::Policy) -> Policy {
        Policy {
            inner: Mutex::new(p),
        }
    }

    /// Takes the lock; if another thread holds it, waits with the GIL released.
    fn lock(&self, py: Python<'_>) -> MutexGuard<'_, sa::Policy> {
        loop {
            match self.inner.try_lock() {
                Ok(g) => return g,
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) => py.detach(|| {
                    drop(self.inner.lock());
                }),
            }
        }
    }

    fn with<T>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut sa::Policy) -> Result<T, sa::Error>,
    ) -> PyResult<T> {
        let r = f(&mut self.lock(py)); // unlocked before the error becomes Python's
        r.or_py(py)
    }

    /// Runs `f` on the policy; with the GIL released if `detach` (work long enough to pay for it).
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        detach: bool,
        f: impl FnOnce(&mut sa::Policy) -> T + Send,
    ) -> T {
        if !detach {
            return f(&mut self.lock(py));
        }
        py.detach(|| f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner)))
    }

    fn snapshot(&self, py: Python<'_>) -> sa::Policy {
        self.lock(py).clone()
    }
}

fn event(e: sa::Event) -> Event {
    Event { inner: e }
}

/// Largest batch evaluated without releasing the GIL (releasing costs more than it saves).
const DETACH_MIN_BATCH: usize = 256;

#[pymethods]
impl Policy {
    /// `now` is when the policy is created: the time of its `POLICY_CREATED` event, before
    /// which no change is accepted. Unlike every other `now`, `None` does not mean the current
    /// time but "not given": the event is then stamped 1970-01-01T00:00:00Z, as the core does.
    #[new]
    #[pyo3(signature = (org_id, *, restrict_employee_access = false, max_grant_duration = MaxDuration::Default, now = None))]
    fn new(
        py: Python<'_>,
        org_id: &Bound<'_, PyString>,
        restrict_employee_access: bool,
        max_grant_duration: MaxDuration,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Policy> {
        let mut o = sa::PolicyOptions::new(text(org_id)?.into_owned());
        o.restrict_employee_access = restrict_employee_access;
        if let MaxDuration::Set(ms) = max_grant_duration {
            o.max_grant_duration_ms = ms; // else `PolicyOptions::new`'s default (24 h)
        }
        o.created_at = opt_time_arg(py, now)?;
        Ok(Policy::wrap(sa::Policy::new(o).or_py(py)?))
    }

    /// A policy from its SPEC section 7 options JSON (`{"orgId": …, …}`).
    #[staticmethod]
    fn from_json(py: Python<'_>, options: &Bound<'_, PyString>) -> PyResult<Policy> {
        let options = text(options)?;
        Ok(Policy::wrap(
            sa::Policy::from_options_json(&options).or_py(py)?,
        ))
    }

    /// Rebuilds the exact policy that wrote a JSON Lines record (`RecordTampered` if it was altered).
    #[staticmethod]
    fn replay(py: Python<'_>, record: &Bound<'_, PyString>) -> PyResult<Policy> {
        let record = text(record)?;
        let p = py.detach(|| sa::Policy::replay(&record));
        Ok(Policy::wrap(p.or_py(py)?))
    }

    // ----- properties -----

    #[getter]
    fn org_id(&self, py: Python<'_>) -> String {
        self.lock(py).org_id().to_owned()
    }

    #[getter]
    fn restrict_employee_access(&self, py: Python<'_>) -> bool {
        self.lock(py).restrict_employee_access()
    }

    #[getter]
    fn max_grant_duration(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let ms = self.lock(py).max_grant_duration_ms();
        ms.map(|ms| duration_obj(py, ms)).transpose()
    }

    /// The project ids, in id order.
    #[getter]
    fn projects(&self, py: Python<'_>) -> Vec<String> {
        self.lock(py).projects().map(String::from).collect()
    }

    /// The record's events, in order.
    #[getter]
    fn record(&self, py: Python<'_>) -> Vec<Event> {
        let events = self.lock(py).events();
        events.into_iter().map(event).collect()
    }

    /// The ids of log downloads in progress.
    #[getter]
    fn downloads_in_progress(&self, py: Python<'_>) -> Vec<String> {
        self.lock(py)
            .downloads_in_progress()
            .map(String::from)
            .collect()
    }

    /// The clusters, in the order they were added, each with its grant active at `now`.
    #[pyo3(signature = (now = None))]
    fn clusters(&self, py: Python<'_>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Cluster>> {
        let now = time_arg(py, now)?;
        let p = self.lock(py);
        Ok(p.clusters()
            .map(|c| Cluster {
                name: c.name.clone(),
                project_id: c.project_id.clone(),
                kind: c.kind,
                sync: c.app_services_sync_enabled,
                grant: GrantData::active(c, now),
            })
            .collect())
    }

    // ----- mutations -----

    /// Sets the org's `restrictEmployeeAccess` (`ORG_OWNER` only).
    #[pyo3(signature = (actor, restrict_employee_access, now = None))]
    fn set_restriction(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        restrict_employee_access: bool,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Event> {
        let (actor, now) = (actor_arg(actor)?, time_arg(py, now)?);
        self.with(py, |p| {
            p.set_restriction(&actor, restrict_employee_access, now)
        })
        .map(event)
    }

    /// Adds a project.
    #[pyo3(signature = (actor, project_id, now = None))]
    fn add_project(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        project_id: &Bound<'_, PyString>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Event> {
        let (actor, project, now) = (actor_arg(actor)?, text(project_id)?, time_arg(py, now)?);
        self.with(py, |p| p.add_project(&actor, &project, now))
            .map(event)
    }

    /// Removes a project with its clusters and their grants.
    #[pyo3(signature = (actor, project_id, now = None))]
    fn remove_project(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        project_id: &Bound<'_, PyString>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Event> {
        let (actor, project, now) = (actor_arg(actor)?, text(project_id)?, time_arg(py, now)?);
        self.with(py, |p| p.remove_project(&actor, &project, now))
            .map(event)
    }

    /// Adds a cluster to a project.
    #[pyo3(signature = (actor, project_id, name, now = None, *, kind = None, app_services_sync_enabled = false))]
    #[allow(clippy::too_many_arguments)]
    fn add_cluster(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        project_id: &Bound<'_, PyString>,
        name: &Bound<'_, PyString>,
        now: Option<&Bound<'_, PyAny>>,
        kind: Option<&Bound<'_, PyAny>>,
        app_services_sync_enabled: bool,
    ) -> PyResult<Event> {
        let actor = actor_arg(actor)?;
        let (project, name) = (text(project_id)?, text(name)?);
        // The core reads `projectId` before the name, whatever the later arguments are.
        sa::wire::check_id("projectId", &project).or_py(py)?;
        let args = match kind {
            Some(k) if !k.is_none() => spec_arg(py, k),
            _ => Ok(sa::ClusterKind::Dedicated),
        }
        .and_then(|k| Ok((k, time_arg(py, now)?)));
        let (kind, now) = after_cluster(py, &name, args)?;
        self.with(py, |p| {
            p.add_cluster(
                &actor,
                &project,
                &name,
                kind,
                app_services_sync_enabled,
                now,
            )
        })
        .map(event)
    }

    /// Removes a cluster (and drops its grant).
    #[pyo3(signature = (actor, name, now = None))]
    fn remove_cluster(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        name: &Bound<'_, PyString>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Event> {
        let (actor, name) = (actor_arg(actor)?, text(name)?);
        let now = after_cluster(py, &name, time_arg(py, now))?;
        self.with(py, |p| p.remove_cluster(&actor, &name, now))
            .map(event)
    }

    /// Grants (or re-grants, replacing the active grant) support access until `expiration_time`
    /// (default `now` + 24 h).
    #[pyo3(signature = (actor, cluster, grant_type, now = None, expiration_time = None))]
    fn grant(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        cluster: &Bound<'_, PyString>,
        grant_type: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
        expiration_time: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Grant> {
        let actor = actor_arg(actor)?;
        let cluster = text(cluster)?;
        let args = spec_arg(py, grant_type)
            .and_then(|g| Ok((g, time_arg(py, now)?, opt_time_arg(py, expiration_time)?)));
        let (grant_type, now, expiration) = after_cluster(py, &cluster, args)?;
        let e = self.with(py, |p| {
            p.grant(&actor, &cluster, grant_type, now, expiration)
        })?;
        let data = event_grant(&e, &actor)
            .ok_or_else(|| PyValueError::new_err("grant recorded an unexpected event"))?;
        Ok(Grant { data })
    }

    /// Ends the active grant now (`NoActiveGrant` without one).
    #[pyo3(signature = (actor, cluster, now = None))]
    fn revoke(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        cluster: &Bound<'_, PyString>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Event> {
        let (actor, cluster) = (actor_arg(actor)?, text(cluster)?);
        let now = after_cluster(py, &cluster, time_arg(py, now))?;
        self.with(py, |p| p.revoke(&actor, &cluster, now))
            .map(event)
    }

    /// Records `EMPLOYEE_ACCESS_EXPIRED` for every grant that ran out by `now`.
    #[pyo3(signature = (now = None))]
    fn expire_due(&self, py: Python<'_>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Event>> {
        let now = time_arg(py, now)?;
        Ok(self
            .with(py, |p| p.expire_due(now))?
            .into_iter()
            .map(event)
            .collect())
    }

    // ----- evaluation -----

    /// May support reach `resource` on `cluster` at `now`? (`ClusterNotFound` for an unknown cluster.)
    #[pyo3(signature = (cluster, resource, now = None))]
    fn evaluate(
        &self,
        py: Python<'_>,
        cluster: &Bound<'_, PyString>,
        resource: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let name = text(cluster)?;
        let args = spec_arg(py, resource).and_then(|r| Ok((r, time_arg(py, now)?)));
        let (resource, now) = after_cluster(py, &name, args)?;
        let r = self.lock(py).evaluate(&name, resource, now);
        r.map(|inner| Decision { inner }).or_py(py)
    }

    /// Evaluates a batch of `(cluster, resource)` or `(cluster, resource, now)` requests, in
    /// order; 2-tuples use `now`. Unknown clusters are denied `CLUSTER_NOT_FOUND`, not raised.
    #[pyo3(signature = (requests, now = None))]
    fn evaluate_many<'py>(
        &self,
        py: Python<'py>,
        requests: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let default_now = time_arg(py, now)?;
        let mut names: Vec<String> = Vec::new();
        let mut by_text: HashMap<String, usize> = HashMap::new();
        let mut reqs: Vec<(usize, sa::Resource, sa::Timestamp)> = Vec::new();
        // Batches usually repeat the same name and time objects: compare pointers first. The
        // objects are held, so a freed object's address can never be mistaken for it.
        let mut last_name: Option<(Bound<'_, PyAny>, usize)> = None;
        let mut last_time: Option<(Bound<'_, PyAny>, sa::Timestamp)> = None;
        if let Ok(n) = requests.len() {
            reqs.reserve(n);
        }
        for item in requests.try_iter()? {
            let item = item?;
            let tuple = item.cast::<PyTuple>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "evaluate_many takes (cluster, resource) or (cluster, resource, now) tuples, got {}",
                    type_name(&item)
                ))
            })?;
            let n = tuple.len();
            if !(2..=3).contains(&n) {
                return Err(PyTypeError::new_err(format!(
                    "evaluate_many takes (cluster, resource) or (cluster, resource, now) tuples, got a {n}-tuple"
                )));
            }
            let cluster = tuple.get_borrowed_item(0)?;
            let idx = match &last_name {
                Some((obj, i)) if obj.is(&*cluster) => *i,
                _ => {
                    let s = cluster.cast::<PyString>().map_err(|_| {
                        PyTypeError::new_err(format!(
                            "a cluster name must be a str, got {}",
                            type_name(&cluster)
                        ))
                    })?;
                    let name = text(&s)?;
                    let i = match by_text.get(name.as_ref()) {
                        Some(i) => *i,
                        None => {
                            names.push(name.clone().into_owned());
                            by_text.insert(name.into_owned(), names.len() - 1);
                            names.len() - 1
                        }
                    };
                    last_name = Some((cluster.to_owned(), i));
                    i
                }
            };
            let resource = spec_arg(py, &*tuple.get_borrowed_item(1)?)?;
            let t = if n == 3 {
                let obj = tuple.get_borrowed_item(2)?;
                match &last_time {
                    Some((o, t)) if o.is(&*obj) => *t,
                    _ => {
                        let t = time_arg(py, Some(&obj))?;
                        last_time = Some((obj.to_owned(), t));
                        t
                    }
                }
            } else {
                default_now
            };
            reqs.push((idx, resource, t));
        }
        // The core's batch (`ffi::evaluate_ids`, with its CLUSTER_NOT_FOUND rule), each distinct
        // name resolved once; a name without a cluster is an id no cluster has.
        let batch = |p: &sa::Policy| {
            let ids: Vec<sa::ClusterId> = names
                .iter()
                .map(|n| p.cluster_id(n).unwrap_or(sa::ClusterId(u32::MAX)))
                .collect();
            let mut out = Vec::with_capacity(reqs.len());
            sa::ffi::evaluate_ids(p, reqs.iter().map(|(i, r, t)| (ids[*i], *r, *t)), |_, d| {
                out.push(d)
            });
            out
        };
        let out = self.run(py, reqs.len() >= DETACH_MIN_BATCH, |p| batch(p));
        // Decisions are immutable values: equal ones share one Python object, which saves an
        // allocation per request (batches repeat a handful of distinct answers).
        let mut interned: HashMap<sa::Decision, Bound<'py, Decision>> = HashMap::new();
        let mut last: Option<(sa::Decision, Bound<'py, Decision>)> = None;
        let mut objs = Vec::with_capacity(out.len());
        for d in out {
            let obj = match &last {
                Some((ld, o)) if *ld == d => o.clone(),
                _ => {
                    let o = match interned.get(&d) {
                        Some(o) => o.clone(),
                        None => {
                            let o = Bound::new(py, Decision { inner: d })?;
                            interned.insert(d, o.clone());
                            o
                        }
                    };
                    last = Some((d, o.clone()));
                    o
                }
            };
            objs.push(obj);
        }
        PyList::new(py, objs)
    }

    /// The decision the record implies for `cluster` and `resource` at a past (or any) time.
    fn evaluate_at(
        &self,
        py: Python<'_>,
        cluster: &Bound<'_, PyString>,
        resource: &Bound<'_, PyAny>,
        at: &Bound<'_, PyAny>,
    ) -> PyResult<Decision> {
        let name = text(cluster)?;
        let args = spec_arg(py, resource).and_then(|r| Ok((r, req_time_arg(py, at)?)));
        let (resource, at) = after_cluster(py, &name, args)?;
        self.with(py, |p| p.evaluate_at(&name, resource, at))
            .map(|inner| Decision { inner })
    }

    /// Time left on the active grant (`None` without one).
    #[pyo3(signature = (cluster, now = None))]
    fn remaining(
        &self,
        py: Python<'_>,
        cluster: &Bound<'_, PyString>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let name = text(cluster)?;
        let now = after_cluster(py, &name, time_arg(py, now))?;
        let ms = self.with(py, |p| p.remaining(&name, now))?;
        ms.map(|ms| duration_obj(py, ms)).transpose()
    }

    /// The grant active on `cluster` at `now`, or `None`.
    #[pyo3(signature = (cluster, now = None))]
    fn active_grant(
        &self,
        py: Python<'_>,
        cluster: &Bound<'_, PyString>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Grant>> {
        let (name, now) = (text(cluster)?, time_arg(py, now)?);
        let g = self.with(py, |p| {
            let id = sa::ffi::require_id(p, &name)?;
            Ok(p.cluster_by_id(id).and_then(|c| GrantData::active(c, now)))
        })?;
        Ok(g.map(|data| Grant { data }))
    }

    // ----- downloads -----

    /// Starts a log download (`DATABASE_LOGS` or `AUDIT_LOGS`) if allowed now; returns its id.
    /// Raises `AccessDenied` (with `.reason`) otherwise.
    #[pyo3(signature = (cluster, resource, now = None))]
    fn begin_log_download(
        &self,
        py: Python<'_>,
        cluster: &Bound<'_, PyString>,
        resource: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let name = text(cluster)?;
        let args = spec_arg(py, resource).and_then(|r| Ok((r, time_arg(py, now)?)));
        let (resource, now) = after_cluster(py, &name, args)?;
        let e = self.with(py, |p| p.begin_log_download(&name, resource, now))?;
        match e.kind {
            sa::EventKind::EmployeeDownloadedClusterLogs { download_id, .. } => Ok(download_id),
            _ => Err(PyValueError::new_err(
                "begin_log_download recorded an unexpected event",
            )),
        }
    }

    /// A download in progress stays allowed until finished.
    #[pyo3(signature = (download_id, now = None))]
    fn continue_log_download(
        &self,
        py: Python<'_>,
        download_id: &Bound<'_, PyString>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let (id, now) = (text(download_id)?, time_arg(py, now)?);
        self.with(py, |p| p.continue_log_download(&id, now))
            .map(|inner| Decision { inner })
    }

    /// Finishes a download in progress.
    #[pyo3(signature = (download_id, now = None))]
    fn finish_log_download(
        &self,
        py: Python<'_>,
        download_id: &Bound<'_, PyString>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Event> {
        let (id, now) = (text(download_id)?, time_arg(py, now)?);
        self.with(py, |p| p.finish_log_download(&id, now))
            .map(event)
    }

    // ----- record, Atlas, JSON -----

    /// The record as JSON Lines text.
    fn export_record(&self, py: Python<'_>) -> String {
        self.lock(py).export_record()
    }

    /// Loads Admin API JSON (as Python objects): an org settings document and the cluster
    /// descriptions (`name`, `groupId`, optional `mongoDBEmployeeAccessGrant`), as a list or as
    /// the `listClusters` page dict (`{"results": [...], "totalCount": N, "links": [...]}`, read
    /// by the core), as of `now` (grants expired by then are skipped; the load is recorded at
    /// `now`).
    #[pyo3(signature = (org_settings, clusters, now = None))]
    fn load_atlas(
        &self,
        py: Python<'_>,
        org_settings: &Bound<'_, PyAny>,
        clusters: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<LoadSummary> {
        let now = time_arg(py, now)?;
        let settings = to_json_value(py, org_settings, "org_settings")?;
        let clusters = to_json_value(py, clusters, "clusters")?;
        let s = self.with(py, |p| p.load_atlas_at(&settings, &clusters, Some(now)))?;
        Ok(LoadSummary {
            projects: s.projects,
            clusters: s.clusters,
            grants: s.grants,
            expired_grants_skipped: s.expired_grants_skipped,
        })
    }

    /// The SPEC section 7 JSON command interface: one command in, one result out (the same
    /// bytes as every other binding). Never raises for a bad command; errors are results.
    fn apply(&self, py: Python<'_>, command: &Bound<'_, PyString>) -> PyResult<String> {
        let command = text(command)?;
        Ok(self.run(py, command.len() >= 1 << 16, |p| sa::apply(p, &command)))
    }

    // ----- signed checkpoints (SPEC §9) -----

    /// Signs a checkpoint of the current head, dated `now`, with `key` (a `SigningKey` or its
    /// text). Records nothing; `now` before the last event is `ClockWentBackwards`.
    #[pyo3(signature = (key, now = None))]
    fn checkpoint(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Checkpoint> {
        let key = text_arg::<SigningKey>(py, key, "key")?;
        let now = time_arg(py, now)?;
        let inner = self.with(py, |p| p.checkpoint(now, &key))?;
        Ok(Checkpoint { inner })
    }

    /// Checks this policy's record against checkpoints (`Checkpoint`s or texts) signed by
    /// trusted keys (`PublicKey`s or texts): `UntrustedKey`, `BadSignature`,
    /// `CheckpointMismatch`, `RecordTruncated`, `CheckpointsDisagree`, each with `.seq`.
    fn verify_checkpoints(
        &self,
        py: Python<'_>,
        checkpoints: &Bound<'_, PyAny>,
        trusted_keys: &Bound<'_, PyAny>,
    ) -> PyResult<CheckpointsVerified> {
        let (cs, ks) = checkpoint_args(py, checkpoints, trusted_keys)?;
        let v = self.with(py, |p| p.verify_checkpoints(&cs, &ks))?;
        Ok(CheckpointsVerified::of(v))
    }

    /// A copy of this policy (state and record).
    fn copy(&self, py: Python<'_>) -> Policy {
        Policy::wrap(self.snapshot(py))
    }

    fn __copy__(&self, py: Python<'_>) -> Policy {
        self.copy(py)
    }

    fn __deepcopy__(&self, py: Python<'_>, _memo: &Bound<'_, PyAny>) -> Policy {
        self.copy(py)
    }

    fn __eq__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> bool {
        let Ok(other) = other.cast::<Policy>() else {
            return false;
        };
        if slf.is(other) {
            return true;
        }
        let py = slf.py();
        let a = slf.get().snapshot(py);
        let b = other.get().lock(py);
        a == *b
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let p = self.lock(py);
        format!(
            "Policy(org_id={}, restrict_employee_access={}, projects={}, clusters={}, events={})",
            repr_str(p.org_id()),
            if p.restrict_employee_access() {
                "True"
            } else {
                "False"
            },
            p.projects().count(),
            p.clusters().count(),
            p.record().len()
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Signed checkpoints (SPEC §9)
// ---------------------------------------------------------------------------------------------

/// A pyclass over a core value with a text form, `sa::$t`: the struct holding it, what makes it
/// an argument (`TextForm`), and the methods every such class has — `parse` (`MalformedInput`
/// otherwise), `key_id` and `to_text` — before the class's own. `hashed` classes compare and
/// hash by value (their text form is canonical, so equal values have equal texts).
macro_rules! text_form_class {
    (@struct hashed $t:ident [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        #[pyclass(frozen, eq, hash, skip_from_py_object, module = "support_access")]
        #[derive(Debug, Clone, PartialEq, Eq)]
        struct $t {
            inner: sa::$t,
        }

        impl std::hash::Hash for $t {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.inner.to_text().hash(state);
            }
        }
    };
    (@struct secret $t:ident [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        #[pyclass(frozen, skip_from_py_object, module = "support_access")]
        #[derive(Debug)]
        struct $t {
            inner: sa::$t,
        }
    };
    (
        $(#[doc = $doc:literal])*
        $how:ident struct $t:ident;
        parse: $parse_doc:literal;
        key_id: $key_doc:literal;
        to_text: $text_doc:literal;
        $($methods:tt)*
    ) => {
        text_form_class!(@struct $how $t [$($doc)*]);

        impl TextForm for $t {
            type Inner = sa::$t;
            const CLASS: &'static str = stringify!($t);
            fn inner(&self) -> &sa::$t {
                &self.inner
            }
            fn parse_text(s: &str) -> Result<sa::$t, sa::Error> {
                sa::$t::parse(s)
            }
        }

        #[pymethods]
        impl $t {
            #[doc = $parse_doc]
            #[staticmethod]
            fn parse(py: Python<'_>, text: &Bound<'_, PyString>) -> PyResult<$t> {
                let inner = sa::$t::parse(&self::text(text)?).or_py(py)?;
                Ok($t { inner })
            }

            #[doc = $key_doc]
            #[getter]
            fn key_id(&self) -> String {
                self.inner.key_id().to_hex()
            }

            #[doc = $text_doc]
            fn to_text(&self) -> String {
                self.inner.to_text()
            }

            $($methods)*
        }
    };
}

text_form_class! {
    /// An Ed25519 public key that checkpoints are verified with. Text form: `sa-ed25519-pub:`
    /// and 64 lower-case hex digits (`str(key)`).
    hashed struct PublicKey;
    parse: "Reads the text form (`MalformedInput` otherwise; small-order keys are refused).";
    key_id: "The 16 hex digits that checkpoints signed with the matching signing key carry.";
    to_text: "The text form.";

    fn __str__(&self) -> String {
        self.inner.to_text()
    }

    fn __repr__(&self) -> String {
        format!("PublicKey.parse({})", repr_str(&self.inner.to_text()))
    }
}

text_form_class! {
    /// An Ed25519 signing key: a secret (its `repr` shows only the key id). Text form:
    /// `sa-ed25519-key:` and 64 lower-case hex digits of the 32-byte seed.
    secret struct SigningKey;
    parse: "Reads the text form (`MalformedInput` otherwise; the error never repeats the text).";
    key_id: "The public key's id.";
    to_text: "The text form: a secret, keep it out of logs.";

    /// The key for exactly 32 seed bytes the host drew (e.g. ``os.urandom(32)``); any other
    /// length is `MalformedInput` (a `ValueError`).
    #[staticmethod]
    fn from_seed(py: Python<'_>, seed: &[u8]) -> PyResult<SigningKey> {
        Ok(SigningKey {
            inner: sa::SigningKey::from_seed_bytes(seed).or_py(py)?,
        })
    }

    /// The public key that verifies this key's checkpoints.
    #[getter]
    fn public_key(&self) -> PublicKey {
        PublicKey {
            inner: self.inner.public_key().clone(),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "SigningKey(key_id={})",
            repr_str(&self.inner.key_id().to_hex())
        )
    }
}

text_form_class! {
    /// A signed statement that organization `org_id`'s record had `seq` events, the last with
    /// hash `hash`, signed at `at` by the key `key_id` names. `str(checkpoint)` is its text form.
    hashed struct Checkpoint;
    parse: "Reads exactly the text form (`MalformedInput` otherwise). The signature is not checked.";
    key_id: "The id of the key that signed it.";
    to_text: "The text form (seven lines, each ending with a newline).";

    /// Reads a checkpoints file: checkpoints one after another (an empty text holds none).
    #[staticmethod]
    fn parse_many(py: Python<'_>, text: &Bound<'_, PyString>) -> PyResult<Vec<Checkpoint>> {
        let all = sa::Checkpoint::parse_many(&self::text(text)?).or_py(py)?;
        Ok(all.into_iter().map(|inner| Checkpoint { inner }).collect())
    }

    #[getter]
    fn org_id(&self) -> &str {
        self.inner.org_id()
    }

    /// How many events the record had.
    #[getter]
    fn seq(&self) -> u64 {
        self.inner.seq()
    }

    /// The hash of the event at `seq`.
    #[getter]
    fn hash(&self) -> &str {
        self.inner.hash()
    }

    /// When it was signed (aware `datetime`, UTC).
    #[getter]
    fn at(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        datetime_obj(py, self.inner.at())
    }

    /// Whether the signature verifies with `key` (a `PublicKey` or its text). Only the
    /// signature: `Policy.verify_checkpoints` also checks trust and the record.
    fn verify_signature(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self
            .inner
            .verify_signature(&text_arg::<PublicKey>(py, key, "key")?))
    }

    fn __str__(&self) -> String {
        self.inner.to_text()
    }

    fn __repr__(&self) -> String {
        format!(
            "Checkpoint(org_id={}, seq={}, hash={}, at={}, key_id={})",
            repr_str(self.inner.org_id()),
            self.inner.seq(),
            repr_str(self.inner.hash()),
            repr_time(self.inner.at()),
            repr_str(&self.inner.key_id().to_hex())
        )
    }
}

/// What `verify_checkpoints` found.
#[pyclass(
    frozen,
    eq,
    hash,
    get_all,
    skip_from_py_object,
    module = "support_access"
)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CheckpointsVerified {
    /// How many events the record holds.
    events: u64,
    /// The hash of its last event.
    last_hash: String,
    /// The highest `seq` a checkpoint vouches for (events past it: the chain only).
    verified_up_to: u64,
    /// The ids of the keys whose checkpoints were checked, sorted, each once.
    key_ids: Vec<String>,
}

impl CheckpointsVerified {
    fn of(v: sa::checkpoint::Verified) -> CheckpointsVerified {
        CheckpointsVerified {
            events: v.events,
            last_hash: v.last_hash,
            verified_up_to: v.verified_up_to,
            key_ids: v.key_ids.iter().map(|k| k.to_hex()).collect(),
        }
    }
}

#[pymethods]
impl CheckpointsVerified {
    fn __repr__(&self) -> String {
        let ids: Vec<String> = self.key_ids.iter().map(|k| repr_str(k)).collect();
        format!(
            "CheckpointsVerified(events={}, last_hash={}, verified_up_to={}, key_ids=[{}])",
            self.events,
            repr_str(&self.last_hash),
            self.verified_up_to,
            ids.join(", ")
        )
    }
}

/// A pyclass over a core value with a text form: the argument is it or its text.
trait TextForm: pyo3::PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync {
    type Inner: Clone;
    const CLASS: &'static str;
    fn inner(&self) -> &Self::Inner;
    fn parse_text(s: &str) -> Result<Self::Inner, sa::Error>;
}

/// A `T` or its text (`what` names the argument in the `TypeError`).
fn text_arg<T: TextForm>(py: Python<'_>, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T::Inner> {
    if let Ok(k) = obj.cast::<T>() {
        return Ok(k.get().inner().clone());
    }
    match obj.cast::<PyString>() {
        Ok(s) => T::parse_text(&text(s)?).or_py(py),
        Err(_) => Err(PyTypeError::new_err(format!(
            "{what} must be a {} or its text, not {}",
            T::CLASS,
            type_name(obj)
        ))),
    }
}

/// The items of an iterable argument (a lone `str` is refused: it is not a list of texts).
fn items<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an iterable of items, not a str (use Checkpoint.parse_many for a checkpoints file)"
        )));
    }
    obj.try_iter()
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{what} must be an iterable, not {}",
                type_name(obj)
            ))
        })?
        .collect()
}

/// The items of an iterable of `T`s or their texts.
fn text_args<T: TextForm>(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<Vec<T::Inner>> {
    let all = items(obj, what)?;
    let each = all.iter().enumerate();
    each.map(|(i, o)| text_arg::<T>(py, o, &format!("{what}[{i}]")))
        .collect()
}

/// Checkpoints (`Checkpoint`s or their texts) and trusted keys (`PublicKey`s or their texts).
fn checkpoint_args(
    py: Python<'_>,
    checkpoints: &Bound<'_, PyAny>,
    trusted_keys: &Bound<'_, PyAny>,
) -> PyResult<(Vec<sa::Checkpoint>, Vec<sa::PublicKey>)> {
    Ok((
        text_args::<Checkpoint>(py, checkpoints, "checkpoints")?,
        text_args::<PublicKey>(py, trusted_keys, "trusted_keys")?,
    ))
}

/// Verifies a JSON Lines record (`RecordTampered`), then checks it against checkpoints signed by
/// trusted keys (the `CheckpointError` subclasses, each with the refused checkpoint's `seq`).
#[pyfunction]
fn verify_checkpoints(
    py: Python<'_>,
    record: &Bound<'_, PyString>,
    checkpoints: &Bound<'_, PyAny>,
    trusted_keys: &Bound<'_, PyAny>,
) -> PyResult<CheckpointsVerified> {
    let (cs, ks) = checkpoint_args(py, checkpoints, trusted_keys)?;
    let record = text(record)?;
    let v = py.detach(|| sa::checkpoint::verify_checkpoints(&record, &cs, &ks));
    Ok(CheckpointsVerified::of(v.or_py(py)?))
}

/// Checks a JSON Lines record; returns how many events it holds (`RecordTampered` otherwise).
#[pyfunction]
fn verify_record(py: Python<'_>, record: &Bound<'_, PyString>) -> PyResult<u64> {
    let record = text(record)?;
    py.detach(|| sa::verify(&record)).or_py(py)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", sa::VERSION)?;
    m.add_class::<Policy>()?;
    m.add_class::<Actor>()?;
    m.add_class::<Role>()?;
    m.add_class::<Decision>()?;
    m.add_class::<Event>()?;
    m.add_class::<Grant>()?;
    m.add_class::<Cluster>()?;
    m.add_class::<LoadSummary>()?;
    m.add_class::<PublicKey>()?;
    m.add_class::<SigningKey>()?;
    m.add_class::<Checkpoint>()?;
    m.add_class::<CheckpointsVerified>()?;
    m.add_function(wrap_pyfunction!(verify_record, m)?)?;
    m.add_function(wrap_pyfunction!(verify_checkpoints, m)?)?;
    Ok(())
}
