//! [`PolicySet`]: the built-in bundle plus org/local policy files, parsed and compiled once,
//! evaluated many times.
//!
//! Loading: each file's syntax is detected ([`crate::syntax`]); the file is parsed into one
//! regorus [`Engine`]; a light source scan ([`crate::metadata`]) finds each file's rules and
//! METADATA. The set is then compiled ("prepared") with the default data document, so that
//! compile errors (recursion, unsafe variables, conflicting rules) are reported at load time.
//!
//! Evaluating: the input is converted for regorus and measured in one walk (module `input`);
//! the organisation's data document is merged over the bundle defaults; a prepared
//! engine for that data document comes from a small cache keyed on the caller's `data`
//! (preparing is the expensive step and org settings rarely change), taken from a pool of idle
//! engines or cloned; then every `deny`, `violation`, `warn` and `info` rule of every package is
//! evaluated at once, through one generated rule, under the [`Limits`]. The built-in bundle
//! alone runs on regorus's compiled VM instead (see [`PolicySetBuilder::vm`]), with a pool of
//! loaded VMs per data document; an evaluation the VM stops with an error that is not a limit
//! is evaluated again on the interpreter.

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::program::Program;
use regorus::rvm::vm::VmError;
use regorus::rvm::RegoVM;
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, LimitError, MemoryBudgetConfig};
use serde_json::Value;

use crate::bundle;
use crate::error::{core_message, position_in, PolicyError, Position};
use crate::findings::{
    describe, messages, Evaluation, Finding, PolicySource, RawMessage, Severity,
};
use crate::limits::{install_guards, Limits};
use crate::memory;
use crate::metadata::{self, literal_matches, Annotations, FileScan, RuleDecl};
use crate::syntax::{self, Syntax};

/// Prepared engines kept per distinct data document.
const ENGINE_CACHE: usize = 8;

/// Idle prepared engines kept per data document for reuse: an evaluation takes one instead of
/// cloning the prepared engine (a clone copies the interpreter's rule and function tables, a
/// tenth of an evaluation). More concurrent evaluations than this clone as before.
const IDLE_ENGINES: usize = 16;

/// One loaded policy file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyFile {
    /// The name it was loaded under: the path as given, or the bundle file name.
    pub path: String,
    /// True for a file of the built-in bundle.
    pub builtin: bool,
    /// The Rego version it was parsed as.
    pub syntax: Syntax,
    /// Its package, e.g. `marketplace.manifest`.
    pub package: String,
    /// Problems that did not stop loading (an invalid METADATA block), as `file:line: message`.
    pub warnings: Vec<String>,
}

struct Loaded {
    file: PolicyFile,
    scan: FileScan,
}

/// A rule set to evaluate: one conftest rule name in one package.
struct RuleSet {
    package: String,
    name: String,
    severity: Severity,
    path: String,
    /// (file index, rule index in that file's scan) of each definition.
    decls: Vec<(usize, usize)>,
}

/// A Rego unit test rule (`test_*`) found in a package.
pub(crate) struct TestDecl {
    pub package: String,
    pub name: String,
    pub file: usize,
    pub line: u32,
}

struct Inner {
    files: Vec<Loaded>,
    rule_sets: Vec<RuleSet>,
    tests: Vec<TestDecl>,
    limits: Limits,
    /// The unprepared engine with every policy and the guard extensions.
    base: Mutex<Engine>,
    /// Whether evaluations run on regorus's compiled VM (see [`PolicySetBuilder::vm`]).
    vm: bool,
    /// Prepared engines by data document, most recently used first.
    prepared: Mutex<Vec<Prepared>>,
}

/// The prepared engines for one `data` argument of [`PolicySet::evaluate`].
struct Prepared {
    /// The `data` argument as the caller passed it (the cache key: comparing it is cheaper than
    /// merging the defaults again to compare merged documents).
    data: Value,
    /// The merged data document ([`PolicySet::data_document`] of `data`).
    doc: Arc<Value>,
    /// Prepared with `doc`, never evaluated: cloned when no idle engine is left.
    template: Engine,
    /// Engines that finished an evaluation successfully. `Engine::eval_rule` resets the
    /// interpreter's evaluation state (rule values, scopes, data) before it runs, and the input
    /// is replaced for each evaluation, so nothing of an earlier evaluation is visible.
    idle: Vec<Engine>,
    /// The batch rule compiled for regorus's VM, when the set runs on it.
    program: Option<Arc<Program>>,
    /// VMs with `program` and `doc` loaded that finished an execution successfully (each
    /// execution resets the VM's registers, rule cache and counters).
    idle_vms: Vec<RegoVM>,
}

/// Policies ready to evaluate: cheap to clone and to share between threads.
#[derive(Clone)]
pub struct PolicySet {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("files", &self.files().collect::<Vec<_>>())
            .field("limits", &self.inner.limits)
            .finish()
    }
}

/// Builds a [`PolicySet`]: choose the built-in bundle, files, directories and limits.
#[derive(Debug, Clone)]
pub struct PolicySetBuilder {
    builtin: bool,
    files: Vec<(String, String)>,
    limits: Limits,
    vm: bool,
}

impl Default for PolicySetBuilder {
    fn default() -> Self {
        PolicySetBuilder {
            builtin: true,
            files: Vec::new(),
            limits: Limits::default(),
            vm: true,
        }
    }
}

impl PolicySetBuilder {
    /// Whether to include the built-in bundle (default: yes).
    pub fn builtin(mut self, include: bool) -> Self {
        self.builtin = include;
        self
    }

    /// Adds a policy from source; `path` names it in findings and errors.
    pub fn file(mut self, path: impl Into<String>, source: impl Into<String>) -> Self {
        self.files.push((path.into(), source.into()));
        self
    }

    /// Adds every `*.rego` file under `dir`, recursively, in path order.
    pub fn dir(mut self, dir: &Path) -> Result<Self, PolicyError> {
        let mut paths = Vec::new();
        collect_rego(dir, &mut paths)?;
        paths.sort();
        for p in paths {
            let source = std::fs::read_to_string(&p).map_err(|source| PolicyError::Io {
                path: p.clone(),
                source,
            })?;
            self.files.push((p.display().to_string(), source));
        }
        Ok(self)
    }

    /// Sets the evaluation limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether to evaluate on regorus's compiled VM (default: yes), about five times faster
    /// than its tree-walking interpreter. It applies only to the built-in bundle alone, which
    /// Plaza tests to give the same findings on both: regorus 0.14.1's VM cannot serve
    /// arbitrary policies safely, since mutually recursive rules overflow the native stack (a
    /// process abort, not an error) and calls to the builtins Plaza guards
    /// (`numbers.range`, see [`crate::limits`]) do not reach the guards. A set with org or
    /// local files always runs on the interpreter. An evaluation the VM cannot finish for any
    /// reason other than a limit is run again on the interpreter, so errors read the same
    /// either way. `false` always uses the interpreter.
    pub fn vm(mut self, enabled: bool) -> Self {
        self.vm = enabled;
        self
    }

    /// Parses and compiles everything; the first bad file fails the build.
    pub fn build(self) -> Result<PolicySet, PolicyError> {
        let mut engine = Engine::new();
        install_guards(&mut engine, self.limits.max_range).map_err(|e| PolicyError::Compile {
            position: None,
            message: e.to_string(),
            hint: "internal error registering builtin guards".to_owned(),
        })?;
        let mut files = Vec::new();
        if self.builtin {
            for (name, src) in bundle::FILES {
                files.push(load(&mut engine, name, src, true)?);
            }
        }
        for (path, src) in &self.files {
            files.push(load(&mut engine, path, src, false)?);
        }
        let (rule_sets, tests) = index(&files);
        // Only the built-in bundle alone runs on the VM (see `PolicySetBuilder::vm`).
        let vm = self.vm && self.builtin && self.files.is_empty();
        add_batch_module(
            &mut engine,
            &rule_sets,
            self.builtin && self.files.is_empty(),
        )?;
        let set = PolicySet {
            inner: Arc::new(Inner {
                files,
                rule_sets,
                tests,
                limits: self.limits,
                base: Mutex::new(engine),
                vm,
                prepared: Mutex::new(Vec::new()),
            }),
        };
        // Compile now, so that a bad policy is rejected at load time.
        set.engine_for(&Value::Null)?;
        Ok(set)
    }
}

fn collect_rego(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), PolicyError> {
    let io = |source| PolicyError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_rego(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rego") {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses one file into `engine`, trying the detected syntax first, then the other.
fn load(
    engine: &mut Engine,
    path: &str,
    source: &str,
    builtin: bool,
) -> Result<Loaded, PolicyError> {
    let first = syntax::detect(source);
    let mut used = first;
    let mut result = add(engine, path, source, first);
    if result.is_err() && add(engine, path, source, first.other()).is_ok() {
        used = first.other();
        result = Ok(());
    }
    engine.set_rego_v0(false);
    if let Err(e) = result {
        let text = e.to_string();
        let position = position_in(&text).unwrap_or(Position {
            file: path.to_owned(),
            line: 1,
            column: 1,
        });
        let hint = match first {
            Syntax::V1 => "the file reads as Rego v1 (`deny contains msg if { … }`) and is not valid Rego v0 either; fix the code at this position (`opa check` reports the same)".to_owned(),
            Syntax::V0 => "the file reads as Rego v0 (`deny[msg] { … }`) and is not valid Rego v1 either; fix the code at this position, or add `import rego.v1` to write v1 syntax".to_owned(),
        };
        return Err(PolicyError::Syntax {
            position,
            message: core_message(&text),
            hint,
        });
    }
    let scan = metadata::scan(source);
    let warnings = scan
        .warnings
        .iter()
        .map(|w| format!("{path}:{w}"))
        .collect();
    Ok(Loaded {
        file: PolicyFile {
            path: path.to_owned(),
            builtin,
            syntax: used,
            package: scan.package.clone(),
            warnings,
        },
        scan,
    })
}

fn add(engine: &mut Engine, path: &str, source: &str, syntax: Syntax) -> anyhow::Result<()> {
    engine.set_rego_v0(syntax == Syntax::V0);
    engine
        .add_policy(path.to_owned(), source.to_owned())
        .map(drop)
}

fn index(files: &[Loaded]) -> (Vec<RuleSet>, Vec<TestDecl>) {
    let mut sets: BTreeMap<(String, String), RuleSet> = BTreeMap::new();
    let mut tests: BTreeMap<(String, String), TestDecl> = BTreeMap::new();
    for (fi, f) in files.iter().enumerate() {
        let package = &f.scan.package;
        for (ri, rule) in f.scan.rules.iter().enumerate() {
            if let Some(severity) = Severity::of_rule(&rule.name) {
                sets.entry((package.clone(), rule.name.clone()))
                    .or_insert_with(|| RuleSet {
                        package: package.clone(),
                        name: rule.name.clone(),
                        severity,
                        path: format!("data.{package}.{}", rule.name),
                        decls: Vec::new(),
                    })
                    .decls
                    .push((fi, ri));
            } else if rule.name.starts_with("test_") {
                tests
                    .entry((package.clone(), rule.name.clone()))
                    .or_insert(TestDecl {
                        package: package.clone(),
                        name: rule.name.clone(),
                        file: fi,
                        line: rule.line,
                    });
            }
        }
    }
    (sets.into_values().collect(), tests.into_values().collect())
}

impl PolicySet {
    /// A builder (built-in bundle included, default limits).
    pub fn builder() -> PolicySetBuilder {
        PolicySetBuilder::default()
    }

    /// The built-in bundle alone.
    pub fn builtin() -> Result<PolicySet, PolicyError> {
        Self::builder().build()
    }

    /// The built-in bundle plus every `*.rego` file under `dir`.
    pub fn from_dir(dir: &Path) -> Result<PolicySet, PolicyError> {
        Self::builder().dir(dir)?.build()
    }

    /// The built-in bundle plus the given `(path, source)` files.
    pub fn with_files<P, S>(
        files: impl IntoIterator<Item = (P, S)>,
    ) -> Result<PolicySet, PolicyError>
    where
        P: Into<String>,
        S: Into<String>,
    {
        files
            .into_iter()
            .fold(Self::builder(), |b, (p, s)| b.file(p, s))
            .build()
    }

    /// The loaded files, bundle first.
    pub fn files(&self) -> impl Iterator<Item = &PolicyFile> {
        self.inner.files.iter().map(|l| &l.file)
    }

    /// Whether evaluations with the default data document run on regorus's compiled VM (see
    /// [`PolicySetBuilder::vm`]); `false` means the tree-walking interpreter.
    pub fn runs_on_vm(&self) -> bool {
        self.prepare(&Value::Null).is_ok()
            && lock(&self.inner.prepared)
                .iter()
                .any(|p| p.data == Value::Null && p.program.is_some())
    }

    /// The limits every evaluation runs under.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The rule paths evaluated, e.g. `data.marketplace.manifest.deny`.
    pub fn rule_paths(&self) -> impl Iterator<Item = &str> {
        self.inner.rule_sets.iter().map(|r| r.path.as_str())
    }

    /// The data document policies see: `data` (an object, or null for none) with
    /// `data.plaza.org` replaced by the org's settings merged over the bundle defaults, and
    /// `data.plaza.derived` by what Plaza computes from them ([`bundle::derived`]).
    pub fn data_document(&self, data: &Value) -> Result<Value, PolicyError> {
        let mut doc = match data {
            Value::Null => Value::Object(Default::default()),
            Value::Object(_) => data.clone(),
            other => {
                return Err(PolicyError::InvalidDocument {
                    what: "data",
                    message: format!("expected an object, got {}", describe(other)),
                })
            }
        };
        let mut org = bundle::defaults();
        if let Some(over) = doc.pointer("/plaza/org") {
            if !over.is_object() {
                return Err(PolicyError::InvalidDocument {
                    what: "data",
                    message: format!("`plaza.org` must be an object, got {}", describe(over)),
                });
            }
            bundle::merge(&mut org, over);
        }
        let root = doc
            .as_object_mut()
            .ok_or_else(|| PolicyError::InvalidDocument {
                what: "data",
                message: "expected an object".to_owned(),
            })?;
        let plaza = root
            .entry("plaza")
            .or_insert_with(|| Value::Object(Default::default()));
        match plaza.as_object_mut() {
            Some(p) => {
                p.insert("derived".to_owned(), bundle::derived(&org));
                p.insert("org".to_owned(), org);
            }
            None => {
                return Err(PolicyError::InvalidDocument {
                    what: "data",
                    message: "`plaza` must be an object".to_owned(),
                })
            }
        }
        Ok(doc)
    }

    /// The merged data document for the `data` argument (see [`PolicySet::data_document`]),
    /// preparing an engine (and a VM program) for it when it is new.
    fn prepare(&self, data: &Value) -> Result<Arc<Value>, PolicyError> {
        {
            let mut cache = lock(&self.inner.prepared);
            if let Some(i) = cache.iter().position(|p| &p.data == data) {
                let entry = cache.remove(i);
                let doc = Arc::clone(&entry.doc);
                cache.insert(0, entry);
                return Ok(doc);
            }
        }
        let doc = self.data_document(data)?;
        let mut engine = lock(&self.inner.base).clone();
        engine
            .add_data(regorus::Value::from(doc.clone()))
            .map_err(|e| PolicyError::InvalidDocument {
                what: "data",
                message: e.to_string(),
            })?;
        // Any query prepares (analyses and schedules) the loaded modules.
        engine
            .eval_query("true".to_owned(), false)
            .map_err(|e| compile_error(&e))?;
        // A set the VM compiler does not support stays on the interpreter.
        let program = (self.inner.vm && !self.inner.rule_sets.is_empty())
            .then(|| compile_program(&engine))
            .flatten();
        let doc = Arc::new(doc);
        let mut cache = lock(&self.inner.prepared);
        cache.insert(
            0,
            Prepared {
                data: data.clone(),
                doc: Arc::clone(&doc),
                template: engine,
                idle: Vec::new(),
                program,
                idle_vms: Vec::new(),
            },
        );
        cache.truncate(ENGINE_CACHE);
        Ok(doc)
    }

    /// A prepared engine for the `data` argument and the merged data document it was prepared
    /// with. Hand the engine back with [`PolicySet::release`] after a successful evaluation.
    pub(crate) fn engine_for(&self, data: &Value) -> Result<(Arc<Value>, Engine), PolicyError> {
        // Another thread may push the entry out of the cache between the two locks (it takes
        // ENGINE_CACHE other data documents meanwhile): then prepare once more, and after that
        // give up rather than loop.
        for _ in 0..2 {
            let doc = self.prepare(data)?;
            let mut cache = lock(&self.inner.prepared);
            if let Some(entry) = cache.iter_mut().find(|p| p.data == *data) {
                let engine = entry.idle.pop().unwrap_or_else(|| entry.template.clone());
                return Ok((doc, engine));
            }
        }
        Err(PolicyError::LimitExceeded {
            what: format!(
                "more than {ENGINE_CACHE} distinct data documents evaluated at the same time"
            ),
            limit: ENGINE_CACHE as u64,
        })
    }

    /// Returns an engine that finished an evaluation for `data` to the idle pool.
    pub(crate) fn release(&self, data: &Value, engine: Engine) {
        let mut cache = lock(&self.inner.prepared);
        if let Some(entry) = cache.iter_mut().find(|p| &p.data == data) {
            if entry.idle.len() < IDLE_ENGINES {
                entry.idle.push(engine);
            }
        }
    }

    /// A VM with the program and data document for `data` loaded, if the set runs on the VM.
    fn vm_for(&self, data: &Value, doc: &Value) -> Result<Option<RegoVM>, PolicyError> {
        let program = {
            let mut cache = lock(&self.inner.prepared);
            let Some(entry) = cache.iter_mut().find(|p| p.data == *data) else {
                return Ok(None);
            };
            if let Some(vm) = entry.idle_vms.pop() {
                return Ok(Some(vm));
            }
            match &entry.program {
                Some(p) => Arc::clone(p),
                None => return Ok(None),
            }
        };
        let mut vm = RegoVM::new();
        vm.load_program(program);
        // Builtin errors are errors, as in the interpreter (whose default this is).
        vm.set_strict_builtin_errors(true);
        vm.set_data(regorus::Value::from(doc.clone()))
            .map_err(|e| PolicyError::InvalidDocument {
                what: "data",
                message: e.to_string(),
            })?;
        Ok(Some(vm))
    }

    fn release_vm(&self, data: &Value, vm: RegoVM) {
        let mut cache = lock(&self.inner.prepared);
        if let Some(entry) = cache.iter_mut().find(|p| &p.data == data) {
            if entry.idle_vms.len() < IDLE_ENGINES {
                entry.idle_vms.push(vm);
            }
        }
    }

    /// The value of every rule set (aligned with `rule_sets`): on the VM when the set runs on
    /// it, else (or when the VM stops on an error that is not a limit) on the interpreter.
    fn rule_set_values(
        &self,
        data: &Value,
        doc: &Value,
        input: &regorus::Value,
        start: Instant,
    ) -> Result<Vec<regorus::Value>, PolicyError> {
        let limits = self.inner.limits;
        if let Some(mut vm) = self.vm_for(data, doc)? {
            let remaining = remaining(limits.time, start)?;
            vm.set_execution_timer_config(Some(ExecutionTimerConfig {
                limit: remaining,
                check_interval: TIMER_CHECK_INTERVAL,
            }));
            vm.set_max_instructions(limits.max_instructions);
            // Live bytes this thread gains during the execution; 0 counts as 1 (see `Limits`).
            vm.set_memory_budget_config(Some(MemoryBudgetConfig {
                limit: NonZeroU64::new(limits.max_memory_bytes).unwrap_or(NonZeroU64::MIN),
            }));
            vm.set_input(input.clone());
            match vm.execute_entry_point_by_name(BATCH_RULE) {
                Ok(all) => {
                    // An idle VM must not keep the last input alive (up to max_input_bytes
                    // each, times the pool).
                    vm.set_input(regorus::Value::Undefined);
                    self.release_vm(data, vm);
                    return Ok(split_batch(&all, self.inner.rule_sets.len()));
                }
                Err(VmError::TimeLimitExceeded { .. }) => {
                    return Err(PolicyError::Timeout {
                        limit: limits.time,
                        elapsed: start.elapsed(),
                    })
                }
                Err(VmError::InstructionLimitExceeded { limit, .. }) => {
                    return Err(PolicyError::LimitExceeded {
                        what: format!("more than {limit} VM instructions"),
                        limit: limit as u64,
                    })
                }
                Err(VmError::MemoryBudgetExceeded { budget, .. }) => {
                    return Err(memory::exceeded(budget))
                }
                // The process-wide ceiling of an interpreter evaluation in flight on another
                // thread (see `crate::memory`): the interpreter would stop as well.
                Err(VmError::MemoryLimitExceeded { usage, limit, .. }) => {
                    return Err(PolicyError::LimitExceeded {
                        what: format!(
                            "the process-wide memory ceiling of the evaluations in flight ({usage} bytes allocated, ceiling {limit})"
                        ),
                        limit: limits.max_memory_bytes,
                    })
                }
                // Anything else (a builtin error, an unsupported construct): the interpreter
                // evaluates again and reports it with its positions and wording.
                Err(_) => {}
            }
        }
        let (_, mut engine) = self.engine_for(data)?;
        engine.set_input(input.clone());
        let values = eval_batch(&mut engine, &self.inner.rule_sets, &limits, start)?;
        // Only an engine whose evaluation completed goes back to the pool; one stopped midway
        // (time or memory limit, error) is dropped. Nor does an idle engine keep the input.
        engine.set_input(regorus::Value::Undefined);
        self.release(data, engine);
        Ok(values)
    }

    /// Evaluates every `deny`/`violation`/`warn`/`info` rule of every package against `input`
    /// (the policy input document, see [`crate::facts::input_document`]) with `data` as the
    /// data document (org settings under `data.plaza.org`; `Value::Null` for none).
    pub fn evaluate(&self, input: &Value, data: &Value) -> Result<Evaluation, PolicyError> {
        let limits = self.inner.limits;
        let doc = self.prepare(data)?;
        let start = Instant::now();
        let input = crate::input::convert(input, limits.max_input_bytes).map_err(|too_large| {
            PolicyError::LimitExceeded {
                what: format!(
                    "the input document is larger than {} bytes of JSON (measuring stopped at {})",
                    limits.max_input_bytes, too_large.at
                ),
                limit: limits.max_input_bytes as u64,
            }
        })?;
        let mut findings = Vec::new();
        let mut output_bytes = 0usize;
        let values = self.rule_set_values(data, &doc, &input, start)?;
        for (rs, value) in self.inner.rule_sets.iter().zip(values) {
            // Undefined, or a partial set rule no body of which held: nothing to report, and
            // nothing to convert (most rule sets of most evaluations).
            if value == regorus::Value::Undefined || value.as_set().is_ok_and(|s| s.is_empty()) {
                continue;
            }
            let json = serde_json::to_value(&value).map_err(|e| PolicyError::Eval {
                position: None,
                message: format!("{}: result is not JSON: {e}", rs.path),
            })?;
            let raws = messages(&json, &rs.path).map_err(|got| self.ill_shaped(rs, got))?;
            for raw in raws {
                output_bytes +=
                    raw.msg.len() + raw.details.as_ref().map_or(0, |d| d.to_string().len());
                findings.push(self.finding(rs, raw));
            }
            if findings.len() > limits.max_findings {
                return Err(PolicyError::LimitExceeded {
                    what: format!("more than {} findings", limits.max_findings),
                    limit: limits.max_findings as u64,
                });
            }
            if output_bytes > limits.max_output_bytes {
                return Err(PolicyError::LimitExceeded {
                    what: format!("{output_bytes} bytes of messages and details"),
                    limit: limits.max_output_bytes as u64,
                });
            }
        }
        // An org switches a built-in rule off by listing its id in `disabled_rules`; its own
        // rules are its to delete.
        if let Some(off) = doc
            .get("plaza")
            .and_then(|p| p.get("org"))
            .and_then(|o| o.get("disabled_rules"))
            .and_then(Value::as_array)
        {
            findings.retain(|f| {
                !(matches!(f.source, PolicySource::Builtin { .. })
                    && off.iter().any(|id| id.as_str() == Some(f.rule_id.as_str())))
            });
        }
        Evaluation::sort(&mut findings);
        findings.dedup();
        Ok(Evaluation {
            findings,
            duration: start.elapsed(),
        })
    }

    fn ill_shaped(&self, rs: &RuleSet, got: String) -> PolicyError {
        let (fi, ri) = rs.decls[0];
        let f = &self.inner.files[fi];
        PolicyError::IllShaped {
            rule: rs.path.clone(),
            file: f.file.path.clone(),
            line: f.scan.rules[ri].line,
            got,
            hint: format!(
                "write `{} contains msg if {{ … msg := \"…\" }}` (v1) or `{}[msg] {{ … }}` (v0), with msg a string or {{\"msg\": …, \"rule\": …}}",
                rs.name, rs.name
            ),
        }
    }

    fn decl(&self, (fi, ri): (usize, usize)) -> &RuleDecl {
        &self.inner.files[fi].scan.rules[ri]
    }

    /// Attributes a message to one definition of its rule and builds the finding.
    fn finding(&self, rs: &RuleSet, raw: RawMessage) -> Finding {
        let by_msg = |d: &&(usize, usize)| {
            self.decl(**d)
                .strings
                .iter()
                .any(|s| literal_matches(s, &raw.msg))
        };
        let mut candidates: Vec<&(usize, usize)> = rs.decls.iter().collect();
        if let Some(id) = &raw.rule {
            let with_id: Vec<_> = candidates
                .iter()
                .copied()
                .filter(|d| {
                    let decl = self.decl(**d);
                    decl.strings.iter().any(|s| s == id)
                        || decl.annotations.as_ref().and_then(|a| a.rule_id.as_ref()) == Some(id)
                })
                .collect();
            if !with_id.is_empty() {
                candidates = with_id;
            }
        }
        if candidates.len() > 1 {
            let with_msg: Vec<_> = candidates.iter().copied().filter(by_msg).collect();
            if !with_msg.is_empty() {
                candidates = with_msg;
            }
        }
        let chosen = (candidates.len() == 1).then(|| *candidates[0]);
        let at = chosen.unwrap_or(rs.decls[0]);
        let annotations = self.annotations(rs, chosen, raw.rule.as_deref());
        let file = &self.inner.files[at.0].file;
        let line = self.decl(at).line;
        let source = if file.builtin {
            PolicySource::Builtin {
                file: file.path.clone(),
                line,
            }
        } else {
            PolicySource::File {
                path: file.path.clone(),
                line,
            }
        };
        Finding {
            severity: rs.severity,
            rule_id: raw
                .rule
                .or_else(|| annotations.and_then(|a| a.rule_id.clone()))
                .unwrap_or_else(|| format!("{}.{}", rs.package, rs.name)),
            message: raw.msg,
            remediation: raw
                .remediation
                .or_else(|| annotations.and_then(|a| a.remediation.clone())),
            title: raw
                .title
                .or_else(|| annotations.and_then(|a| a.title.clone())),
            details: raw.details,
            package: rs.package.clone(),
            source,
        }
    }

    /// METADATA for a finding: the block declaring its rule id, else the chosen definition's,
    /// else a `scope: document` block of the rule.
    fn annotations(
        &self,
        rs: &RuleSet,
        chosen: Option<(usize, usize)>,
        id: Option<&str>,
    ) -> Option<&Annotations> {
        let all = || {
            rs.decls
                .iter()
                .filter_map(|d| self.decl(*d).annotations.as_ref())
        };
        if let Some(id) = id {
            // The block that declares the id, wherever it is (a rule id names one rule
            // across `deny`/`warn` bodies and files).
            let declared = self.inner.files.iter().flat_map(|f| &f.scan.rules);
            if let Some(a) = declared
                .filter_map(|d| d.annotations.as_ref())
                .find(|a| a.rule_id.as_deref() == Some(id))
            {
                return Some(a);
            }
        }
        chosen
            .and_then(|d| self.decl(d).annotations.as_ref())
            .or_else(|| all().find(|a| a.document_scope))
    }

    pub(crate) fn tests(&self) -> &[TestDecl] {
        &self.inner.tests
    }

    pub(crate) fn file_path(&self, index: usize) -> &str {
        &self.inner.files[index].file.path
    }
}

/// Evaluates one rule path with what is left of the time budget.
/// How many interpreter steps pass between two clock readings: reading the clock at every step
/// cost about a tenth of an evaluation, and 64 steps are far below a millisecond.
const TIMER_CHECK_INTERVAL: NonZeroU32 = match NonZeroU32::new(64) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// What is left of `limit` since `start`, or a timeout.
fn remaining(limit: Duration, start: Instant) -> Result<Duration, PolicyError> {
    let elapsed = start.elapsed();
    limit
        .checked_sub(elapsed)
        .filter(|d| !d.is_zero())
        .ok_or(PolicyError::Timeout { limit, elapsed })
}

/// The batch rule compiled for regorus's VM, or `None` when the VM compiler does not support
/// something in the set.
fn compile_program(prepared: &Engine) -> Option<Arc<Program>> {
    let mut engine = prepared.clone();
    let rule: regorus::Rc<str> = regorus::Rc::from(BATCH_RULE);
    let compiled = engine.compile_with_entrypoint(&rule).ok()?;
    Compiler::compile_from_policy(&compiled, &[BATCH_RULE]).ok()
}

/// Arms the engine's execution timer with what is left of `limit` since `start`.
fn arm_timer(engine: &mut Engine, limit: Duration, start: Instant) -> Result<(), PolicyError> {
    let remaining = remaining(limit, start)?;
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit: remaining,
        check_interval: TIMER_CHECK_INTERVAL,
    });
    Ok(())
}

/// The rule that evaluates every rule set at once (see [`add_batch_module`]).
const BATCH_RULE: &str = "data.plaza_internal.batch.all";

/// Adds a generated module whose one rule lists every rule set's value, so a whole evaluation is
/// ONE rule evaluation: helper rules the sets share (such as the requested scopes) are computed
/// once instead of once per set, and no query is compiled per request. Each value is a
/// one-element array, or an empty one when the rule is undefined.
///
/// `bundle_only`: every rule set is one of the built-in bundle's, which are all partial sets
/// (`deny contains …`, checked by a test) and so always defined, empty when no body holds;
/// each is then referenced directly, which on the VM saves a comprehension per rule set
/// (about 2% of an evaluation). With org or local files every value goes through a
/// comprehension: an author's `deny` may be a complete rule that is undefined.
fn add_batch_module(
    engine: &mut Engine,
    rule_sets: &[RuleSet],
    bundle_only: bool,
) -> Result<(), PolicyError> {
    let parts: Vec<String> = rule_sets
        .iter()
        .map(|rs| {
            if bundle_only {
                format!("[{}]", rs.path)
            } else {
                format!("[plaza_batch_value | plaza_batch_value := {}]", rs.path)
            }
        })
        .collect();
    let source = format!(
        "package plaza_internal.batch\n\nimport rego.v1\n\nall := [{}]\n",
        parts.join(", ")
    );
    engine.set_rego_v0(false);
    engine
        .add_policy("plaza-internal/batch.rego".to_owned(), source)
        .map(drop)
        .map_err(|e| compile_error(&e))
}

/// Evaluates every rule set through the batch rule; values align with `rule_sets`.
fn eval_batch(
    engine: &mut Engine,
    rule_sets: &[RuleSet],
    limits: &Limits,
    start: Instant,
) -> Result<Vec<regorus::Value>, PolicyError> {
    if rule_sets.is_empty() {
        return Ok(Vec::new());
    }
    let all = eval_rule(engine, BATCH_RULE, limits, start)?;
    Ok(split_batch(&all, rule_sets.len()))
}

/// The batch rule's value as one value per rule set (`Undefined` for an undefined rule).
fn split_batch(all: &regorus::Value, n: usize) -> Vec<regorus::Value> {
    let items = all.as_array().map(|a| a.as_slice()).unwrap_or_default();
    (0..n)
        .map(|i| {
            items
                .get(i)
                .and_then(|v| v.as_array().ok().and_then(|a| a.first().cloned()))
                .unwrap_or(regorus::Value::Undefined)
        })
        .collect()
}

/// Evaluates one rule on the interpreter under the time and memory limits.
pub(crate) fn eval_rule(
    engine: &mut Engine,
    path: &str,
    limits: &Limits,
    start: Instant,
) -> Result<regorus::Value, PolicyError> {
    arm_timer(engine, limits.time, start)?;
    let _ceiling = memory::reserve(limits.max_memory_bytes);
    engine.eval_rule(path.to_owned()).map_err(|e| {
        memory::interpreter_error(&e, limits.max_memory_bytes)
            .unwrap_or_else(|| eval_error(&e, limits.time, start))
    })
}

/// A regorus evaluation error as a [`PolicyError`]: a timeout, or an error with its position.
fn eval_error(e: &anyhow::Error, limit: Duration, start: Instant) -> PolicyError {
    if let Some(LimitError::TimeLimitExceeded { .. }) = e.downcast_ref::<LimitError>() {
        return PolicyError::Timeout {
            limit,
            elapsed: start.elapsed(),
        };
    }
    let text = format!("{e:#}");
    if text.contains("exceeded") && text.contains("time limit") {
        return PolicyError::Timeout {
            limit,
            elapsed: start.elapsed(),
        };
    }
    PolicyError::Eval {
        position: position_in(&text),
        message: core_message(&text),
    }
}

fn compile_error(e: &anyhow::Error) -> PolicyError {
    let text = format!("{e:#}");
    PolicyError::Compile {
        position: position_in(&text),
        message: core_message(&text),
        hint: "the policies parse but do not compile together: look for a rule that refers to itself, a variable that is never bound, or a rule defined as both a set and a single value".to_owned(),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn policy_set_is_shareable() {
        assert_send_sync::<PolicySet>();
    }

    #[test]
    fn bundle_metadata_is_valid() {
        let set = PolicySet::builtin().unwrap();
        for f in set.files() {
            assert!(f.builtin && f.syntax == Syntax::V1, "{f:?}");
            assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        }
    }
}
