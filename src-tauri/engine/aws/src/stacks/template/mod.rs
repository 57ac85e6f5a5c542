//! Reading a vendor's CloudFormation template into what a form and a confirmation need: its
//! parameters (with their constraints, labels, groups and the picker each AWS type
//! wants), the resources it creates in plain words (which stay after a delete, which bill
//! while they exist), its outputs and the capabilities CreateStack must acknowledge; and
//! checking a form's values the way CloudFormation will, before any call.
//!
//! Pure: no AWS call. Creating, updating and deleting the stack is `super`'s; prices here
//! are round words for a confirmation, the cost module owns real estimates.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_yaml_ng::{Mapping, Value};
use slipway_core::error::{EngineError, FieldProblem, Result};
use slipway_core::user_files;

/// The most a template sent inline (`TemplateBody`) may weigh; CloudFormation's limit.
pub const BODY_LIMIT: usize = 51_200;
/// The most Slipway reads of a file it is told is a template: enough to say "too large"
/// about any real one, and a refusal of a FIFO or an endless device without reading it.
const READ_LIMIT: u64 = user_files::TEXT_FILE_LIMIT;
/// What a `NoEcho` value is shown and saved as.
pub const MASK: &str = "****";

/// The sections CloudFormation knows at a template's top level.
const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];

/// A template as read: what the form, the confirmation and the stack calls need.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub description: Option<String>,
    /// In the template's order.
    pub parameters: Vec<Parameter>,
    /// From `Metadata: AWS::CloudFormation::Interface: ParameterGroups`; empty without it.
    pub groups: Vec<ParameterGroup>,
    /// In the template's order.
    pub resources: Vec<TemplateResource>,
    /// The IAM resources, the reason for [`Capability::Iam`] or [`Capability::NamedIam`].
    pub iam: Vec<IamResource>,
    pub outputs: Vec<TemplateOutput>,
    /// The macros of its `Transform` section (`AWS::Serverless-2016-10-31`...).
    pub transforms: Vec<String>,
    /// What CreateStack / CreateChangeSet must acknowledge.
    pub capabilities: Vec<Capability>,
    /// The text as read, sent as `TemplateBody`.
    #[serde(skip)]
    pub body: String,
}

/// One parameter of the form.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    pub name: String,
    /// As written: `String`, `Number`, `List<AWS::EC2::Subnet::Id>`...
    pub kind: String,
    /// Its value is comma-separated items (`List<…>`, `CommaDelimitedList`), each checked.
    pub list: bool,
    /// From `ParameterLabels` in the template's Interface metadata.
    pub label: Option<String>,
    pub description: Option<String>,
    pub default: Option<String>,
    pub allowed_values: Vec<String>,
    pub allowed_pattern: Option<String>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    /// A secret: masked in the form, never saved, logged or put in a message.
    pub no_echo: bool,
    pub constraint_description: Option<String>,
    /// The account's resources to choose from, for the AWS-specific types.
    pub picker: Option<Picker>,
}

/// What a form offers to choose from for an AWS-specific parameter type: CloudFormation
/// checks the value exists in the account and region, so typing one is a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum Picker {
    Vpc,
    Vpcs,
    Subnet,
    Subnets,
    SecurityGroup,
    SecurityGroups,
    SecurityGroupName,
    SecurityGroupNames,
    KeyPair,
    AvailabilityZone,
    AvailabilityZones,
    Image,
    Images,
    Instance,
    Instances,
    Volume,
    Volumes,
    HostedZone,
    HostedZones,
    /// A Systems Manager parameter's name (`AWS::SSM::Parameter::Value<…>` or `::Name`).
    SsmParameter,
}

/// A group of the form, as the template's Interface metadata has it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ParameterGroup {
    pub label: String,
    /// Parameter names, in the group's order; names the template does not have are left out.
    pub parameters: Vec<String>,
}

/// One resource the template creates.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TemplateResource {
    pub logical_id: String,
    /// As written: `AWS::ECS::Service`.
    pub kind: String,
    /// In plain words: "an ECS service"; an unknown type is itself.
    pub plain: String,
    /// It stays after the stack is deleted (DeletionPolicy Retain or RetainExceptOnCreate,
    /// or a policy the template works out that may say so).
    pub retained: bool,
    /// Deleting it leaves a snapshot that bills (DeletionPolicy Snapshot, which is also what
    /// an RDS database without a policy gets).
    pub snapshot_on_delete: bool,
    /// What bills while it exists, in round words (us-east-1 prices); None when free.
    pub paid: Option<String>,
    /// The template's condition it is created under, if any.
    pub condition: Option<String>,
}

/// An IAM resource: why the stack needs a capability, and what it allows.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct IamResource {
    pub logical_id: String,
    pub kind: String,
    /// "IAM role", "IAM user"...
    pub plain: String,
    /// How it is named when it has an explicit name ("named server-task-role", "named by
    /// parameter RoleName"); an explicit name is what makes CAPABILITY_NAMED_IAM needed.
    pub naming: Option<String>,
    /// The managed policies it attaches and the actions its own policies allow, in order.
    pub grants: Vec<String>,
}

/// What a stack's creator must acknowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub enum Capability {
    #[serde(rename = "CAPABILITY_IAM")]
    Iam,
    #[serde(rename = "CAPABILITY_NAMED_IAM")]
    NamedIam,
    #[serde(rename = "CAPABILITY_AUTO_EXPAND")]
    AutoExpand,
}

/// One output of the stack.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TemplateOutput {
    pub logical_id: String,
    pub description: Option<String>,
    /// Other stacks can import it (`Export: Name:`).
    pub exported: bool,
    /// The export's name when the template writes it out (a literal or a `!Sub`).
    pub export_name: Option<String>,
}

impl Template {
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// The resources that stay after the stack is deleted.
    pub fn retained(&self) -> impl Iterator<Item = &TemplateResource> {
        self.resources.iter().filter(|r| r.retained)
    }
}

impl Capability {
    /// The string CreateStack and CreateChangeSet take.
    pub fn as_api(&self) -> &'static str {
        match self {
            Capability::Iam => "CAPABILITY_IAM",
            Capability::NamedIam => "CAPABILITY_NAMED_IAM",
            Capability::AutoExpand => "CAPABILITY_AUTO_EXPAND",
        }
    }

    /// Why `template` needs it, in plain words: "creates IAM role TaskRole (named
    /// server-task-role)".
    pub fn why(&self, template: &Template) -> String {
        match self {
            Capability::Iam | Capability::NamedIam => {
                let named_only = *self == Capability::NamedIam;
                let list: Vec<String> = template
                    .iam
                    .iter()
                    .filter(|r| !named_only || r.naming.is_some())
                    .map(|r| match &r.naming {
                        Some(naming) => format!("{} {} ({naming})", r.plain, r.logical_id),
                        None => format!("{} {}", r.plain, r.logical_id),
                    })
                    .collect();
                if list.is_empty() {
                    return "its serverless resources make IAM roles for themselves".into();
                }
                format!("creates {}", join_words(&list))
            }
            Capability::AutoExpand => {
                let mut what: Vec<String> = template
                    .transforms
                    .iter()
                    .map(|t| format!("the macro {t}"))
                    .collect();
                if what.is_empty() {
                    what.push("a macro (Fn::Transform)".into());
                }
                format!(
                    "uses {}, which rewrites the template when the stack is made",
                    join_words(&what)
                )
            }
        }
    }
}

impl Picker {
    /// What the form asks for: "choose a VPC".
    pub fn asks(&self) -> &'static str {
        match self {
            Picker::Vpc => "choose a VPC",
            Picker::Vpcs => "choose at least one VPC",
            Picker::Subnet => "choose a subnet",
            Picker::Subnets => "choose at least one subnet",
            Picker::SecurityGroup | Picker::SecurityGroupName => "choose a security group",
            Picker::SecurityGroups | Picker::SecurityGroupNames => {
                "choose at least one security group"
            }
            Picker::KeyPair => "choose a key pair",
            Picker::AvailabilityZone => "choose an Availability Zone",
            Picker::AvailabilityZones => "choose at least one Availability Zone",
            Picker::Image => "choose an image (AMI)",
            Picker::Images => "choose at least one image (AMI)",
            Picker::Instance => "choose an EC2 instance",
            Picker::Instances => "choose at least one EC2 instance",
            Picker::Volume => "choose an EBS volume",
            Picker::Volumes => "choose at least one EBS volume",
            Picker::HostedZone => "choose a hosted zone",
            Picker::HostedZones => "choose at least one hosted zone",
            Picker::SsmParameter => "choose a Systems Manager parameter",
        }
    }

    /// The prefix and an example of the ids it holds, for the types whose ids have one.
    fn id_shape(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Picker::Vpc | Picker::Vpcs => Some(("vpc-", "vpc-0a1b2c3d")),
            Picker::Subnet | Picker::Subnets => Some(("subnet-", "subnet-0a1b2c3d")),
            Picker::SecurityGroup | Picker::SecurityGroups => Some(("sg-", "sg-0a1b2c3d")),
            Picker::Image | Picker::Images => Some(("ami-", "ami-0a1b2c3d")),
            Picker::Instance | Picker::Instances => Some(("i-", "i-0a1b2c3d")),
            Picker::Volume | Picker::Volumes => Some(("vol-", "vol-0a1b2c3d")),
            _ => None,
        }
    }
}

/// The AWS-specific parameter types: a single value's picker, and a `List<…>` one's.
const AWS_TYPES: &[(&str, Picker, Option<Picker>)] = &[
    ("AWS::EC2::VPC::Id", Picker::Vpc, Some(Picker::Vpcs)),
    (
        "AWS::EC2::Subnet::Id",
        Picker::Subnet,
        Some(Picker::Subnets),
    ),
    (
        "AWS::EC2::SecurityGroup::Id",
        Picker::SecurityGroup,
        Some(Picker::SecurityGroups),
    ),
    (
        "AWS::EC2::SecurityGroup::GroupName",
        Picker::SecurityGroupName,
        Some(Picker::SecurityGroupNames),
    ),
    ("AWS::EC2::KeyPair::KeyName", Picker::KeyPair, None),
    (
        "AWS::EC2::AvailabilityZone::Name",
        Picker::AvailabilityZone,
        Some(Picker::AvailabilityZones),
    ),
    ("AWS::EC2::Image::Id", Picker::Image, Some(Picker::Images)),
    (
        "AWS::EC2::Instance::Id",
        Picker::Instance,
        Some(Picker::Instances),
    ),
    (
        "AWS::EC2::Volume::Id",
        Picker::Volume,
        Some(Picker::Volumes),
    ),
    (
        "AWS::Route53::HostedZone::Id",
        Picker::HostedZone,
        Some(Picker::HostedZones),
    ),
];

/// Reads the template at `path`: a regular file (a link is followed only to one), at
/// most 1 MB, UTF-8. A folder, a FIFO or a device is refused without reading it.
pub fn read(path: &Path) -> Result<Template> {
    let file = path.display().to_string();
    let text = user_files::read_text(path, READ_LIMIT)?
        .ok_or_else(|| invalid(&file, None, "there is no such file; check the path"))?;
    parse(&file, &text)
}

/// Reads a template's text, YAML or JSON; `file` names it in messages.
pub fn parse(file: &str, text: &str) -> Result<Template> {
    if text.len() > BODY_LIMIT {
        return Err(invalid(
            file,
            None,
            format!(
                "is {} bytes, and CloudFormation takes a template sent with the request only up to {BODY_LIMIT} bytes. Make it smaller (comments and Metadata count too), or deploy it with the AWS CLI from an S3 bucket",
                text.len()
            ),
        ));
    }
    let root = load(file, text)?;
    let root = match &root {
        Value::Mapping(m) => m,
        Value::Null => return Err(invalid(file, None, "is empty; choose the template file")),
        _ => {
            return Err(invalid(
                file,
                None,
                "is not a CloudFormation template: it is not a set of sections such as Parameters and Resources",
            ))
        }
    };
    check_sections(file, text, root)?;
    let mut parameters = parameters(file, text, root)?;
    let groups = interface(root, &mut parameters);
    let (resources, iam) = resources(file, text, root)?;
    let outputs = outputs(file, text, root)?;
    let transforms = transforms(root);
    let capabilities = capabilities(root, &iam, &resources, &transforms);
    Ok(Template {
        description: root.get("Description").and_then(text_of),
        parameters,
        groups,
        resources,
        iam,
        outputs,
        transforms,
        capabilities,
        body: text.to_owned(),
    })
}

/// The template's tree. Text that looks like JSON is read as JSON first (its errors are
/// the clearer ones for a JSON file), then as YAML, which JSON almost always also is;
/// anything else is YAML. Both keep the template's order.
fn load(file: &str, text: &str) -> Result<Value> {
    if text.trim_start().starts_with('{') {
        let json_error = match serde_json::from_str::<Value>(text) {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        if let Ok(value) = serde_yaml_ng::from_str::<Value>(text) {
            return Ok(value);
        }
        return Err(invalid(
            file,
            Some(json_error.line()),
            format!(
                "the JSON cannot be read ({}, column {}); check the commas, quotes and brackets there",
                without_position(&json_error.to_string()),
                json_error.column()
            ),
        ));
    }
    serde_yaml_ng::from_str::<Value>(text).map_err(|e| {
        let location = e.location();
        let column = location
            .as_ref()
            .map(|l| format!(", column {}", l.column()))
            .unwrap_or_default();
        invalid(
            file,
            location.map(|l| l.line()),
            format!(
                "the YAML cannot be read ({}{column}); check the indentation and quoting there",
                without_position(&e.to_string())
            ),
        )
    })
}

/// A parser's message without its own " at line N column M", which the error says apart.
/// (Both parsers only give the position inside their message's text.)
fn without_position(message: &str) -> &str {
    message
        .find(" at line ")
        .map_or(message, |at| &message[..at])
}

fn check_sections(file: &str, text: &str, root: &Mapping) -> Result<()> {
    let names: Vec<&str> = root.keys().filter_map(Value::as_str).collect();
    if names.len() != root.len() {
        return Err(invalid(
            file,
            None,
            "has a section whose name is not text; section names are words such as Resources",
        ));
    }
    if !names.contains(&"Resources") {
        let near = names
            .iter()
            .find(|n| n.eq_ignore_ascii_case("resources") || **n == "Resource");
        let problem = match near {
            Some(near) => format!(
                "has no Resources section but has {near}; the section names are case-sensitive: rename it Resources"
            ),
            None => "has no Resources: this is not a CloudFormation template (a template lists what it creates under Resources)".into(),
        };
        return Err(invalid(file, None, problem));
    }
    if let Some(unknown) = names.iter().find(|n| !SECTIONS.contains(n)) {
        return Err(invalid(
            file,
            line_of(text, None, unknown),
            format!(
                "has a section {unknown} that CloudFormation does not know (it knows {}); remove it or correct its name",
                SECTIONS.join(", ")
            ),
        ));
    }
    Ok(())
}

fn parameters(file: &str, text: &str, root: &Mapping) -> Result<Vec<Parameter>> {
    let Some(section) = root.get("Parameters") else {
        return Ok(Vec::new());
    };
    let Some(section) = section.as_mapping() else {
        return Err(invalid(
            file,
            line_of(text, None, "Parameters"),
            "its Parameters section is not a list of named parameters",
        ));
    };
    section
        .iter()
        .map(|(name, spec)| {
            let name = name.as_str().unwrap_or_default();
            parameter(file, text, name, spec)
        })
        .collect()
}

fn parameter(file: &str, text: &str, name: &str, spec: &Value) -> Result<Parameter> {
    let line = || line_of(text, Some("Parameters"), name);
    let Some(spec) = spec.as_mapping() else {
        return Err(invalid(
            file,
            line(),
            format!("parameter {name} is not a set of settings such as Type and Default"),
        ));
    };
    let Some(kind) = spec.get("Type").and_then(written) else {
        return Err(invalid(
            file,
            line(),
            format!("parameter {name} has no Type; give it one, such as String or Number"),
        ));
    };
    let Some((list, picker)) = kind_of(kind) else {
        return Err(invalid(
            file,
            line(),
            format!(
                "parameter {name} has the type {kind}, which CloudFormation does not know; use String, Number, List<Number>, CommaDelimitedList or an AWS type such as AWS::EC2::VPC::Id"
            ),
        ));
    };
    let allowed_pattern = spec.get("AllowedPattern").and_then(text_of);
    if let Some(pattern) = &allowed_pattern {
        if let Err(e) = whole_match(pattern) {
            if !beyond_rust_regex(&e) {
                return Err(invalid(
                    file,
                    line(),
                    format!(
                        "parameter {name} has an AllowedPattern that is not a regular expression ({}): {pattern}; correct the pattern",
                        regex_fault(&e)
                    ),
                ));
            }
        }
    }
    Ok(Parameter {
        name: name.to_owned(),
        kind: kind.to_owned(),
        list,
        label: None,
        description: spec.get("Description").and_then(text_of),
        default: spec.get("Default").and_then(text_of),
        allowed_values: match spec.get("AllowedValues") {
            Some(Value::Sequence(values)) => values.iter().filter_map(text_of).collect(),
            Some(value) => text_of(value).into_iter().collect(),
            None => Vec::new(),
        },
        allowed_pattern,
        min_length: spec.get("MinLength").and_then(number_of).map(as_length),
        max_length: spec.get("MaxLength").and_then(number_of).map(as_length),
        min_value: spec.get("MinValue").and_then(number_of),
        max_value: spec.get("MaxValue").and_then(number_of),
        no_echo: spec
            .get("NoEcho")
            .and_then(text_of)
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        constraint_description: spec.get("ConstraintDescription").and_then(text_of),
        picker,
    })
}

fn as_length(n: f64) -> u32 {
    n.clamp(0.0, u32::MAX as f64) as u32
}

/// Whether a parameter of type `kind` is a list, and its picker; None for a type
/// CloudFormation does not know.
fn kind_of(kind: &str) -> Option<(bool, Option<Picker>)> {
    match kind {
        "String" | "Number" => return Some((false, None)),
        "CommaDelimitedList" | "List<Number>" => return Some((true, None)),
        "AWS::SSM::Parameter::Name" => return Some((false, Some(Picker::SsmParameter))),
        _ => {}
    }
    if let Some(inner) = kind
        .strip_prefix("AWS::SSM::Parameter::Value<")
        .and_then(|k| k.strip_suffix('>'))
    {
        // The value is the name of an SSM parameter whose own value has the inner type.
        let known = matches!(inner, "String" | "List<String>" | "CommaDelimitedList")
            || kind_of(inner).is_some_and(|(_, picker)| picker.is_some());
        return known.then_some((false, Some(Picker::SsmParameter)));
    }
    if let Some(inner) = kind.strip_prefix("List<").and_then(|k| k.strip_suffix('>')) {
        let (_, _, many) = AWS_TYPES.iter().find(|(name, _, _)| *name == inner)?;
        return many.map(|picker| (true, Some(picker)));
    }
    let (_, one, _) = AWS_TYPES.iter().find(|(name, _, _)| *name == kind)?;
    Some((false, Some(*one)))
}

/// The whole-value matcher CloudFormation applies for an `AllowedPattern`: its patterns
/// must match all of the value, not a part.
fn whole_match(pattern: &str) -> std::result::Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// What is wrong with a pattern, without the drawing of it that `regex` puts first (the
/// last line of its message is the fault itself).
fn regex_fault(error: &regex::Error) -> String {
    let message = error.to_string();
    let last = message.lines().last().unwrap_or_default();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

/// A pattern valid in CloudFormation's (Java) regular expressions that Rust's cannot run:
/// look-around and back-references. The template is fine; CloudFormation checks those
/// values itself. (`regex` tells these apart only in its message's text.)
fn beyond_rust_regex(error: &regex::Error) -> bool {
    let message = error.to_string();
    message.contains("look-around") || message.contains("backreferences")
}

/// The groups and labels of the template's Interface metadata; labels go onto
/// `parameters`.
fn interface(root: &Mapping, parameters: &mut [Parameter]) -> Vec<ParameterGroup> {
    let Some(interface) = root
        .get("Metadata")
        .and_then(|m| m.get("AWS::CloudFormation::Interface"))
    else {
        return Vec::new();
    };
    if let Some(labels) = interface.get("ParameterLabels").and_then(Value::as_mapping) {
        for p in parameters.iter_mut() {
            p.label = labels
                .get(p.name.as_str())
                .and_then(|l| l.get("default"))
                .and_then(text_of);
        }
    }
    let Some(groups) = interface
        .get("ParameterGroups")
        .and_then(Value::as_sequence)
    else {
        return Vec::new();
    };
    groups
        .iter()
        .map(|group| ParameterGroup {
            label: group
                .get("Label")
                .and_then(|l| l.get("default"))
                .and_then(text_of)
                .unwrap_or_else(|| "Other parameters".into()),
            parameters: group
                .get("Parameters")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|name| parameters.iter().any(|p| p.name == *name))
                .map(str::to_owned)
                .collect(),
        })
        .collect()
}

fn resources(
    file: &str,
    text: &str,
    root: &Mapping,
) -> Result<(Vec<TemplateResource>, Vec<IamResource>)> {
    let section = root.get("Resources").and_then(Value::as_mapping);
    let Some(section) = section.filter(|s| !s.is_empty()) else {
        return Err(invalid(
            file,
            line_of(text, None, "Resources"),
            "its Resources section lists nothing; a template creates at least one resource",
        ));
    };
    let mut resources = Vec::new();
    let mut iam = Vec::new();
    for (id, spec) in section {
        let id = id.as_str().unwrap_or_default();
        let Some(kind) = spec.get("Type").and_then(written) else {
            return Err(invalid(
                file,
                line_of(text, Some("Resources"), id),
                format!("resource {id} has no Type; give it one, such as AWS::S3::Bucket"),
            ));
        };
        let properties = spec.get("Properties").and_then(Value::as_mapping);
        let policy = spec.get("DeletionPolicy");
        resources.push(TemplateResource {
            logical_id: id.to_owned(),
            kind: kind.to_owned(),
            plain: plain_words(kind, properties),
            retained: policy.is_some_and(|p| may_say(p, &["Retain", "RetainExceptOnCreate"], root)),
            snapshot_on_delete: match policy {
                Some(p) => may_say(p, &["Snapshot"], root),
                None => snapshots_by_default(kind, properties),
            },
            paid: paid(kind, properties, section),
            condition: spec.get("Condition").and_then(text_of),
        });
        if let Some(resource) = iam_resource(id, kind, properties) {
            iam.push(resource);
        }
    }
    Ok((resources, iam))
}

/// Whether a policy value is one of `words`, or may be when the template works it out:
/// an `!If` between policies, or a `!Ref` to a parameter whose default or allowed values
/// include one (or that says nothing of them). For what stays after a delete, "may stay"
/// is the safe side.
fn may_say(policy: &Value, words: &[&str], root: &Mapping) -> bool {
    if let Some(parameter) = reference(policy) {
        let spec = root
            .get("Parameters")
            .and_then(|p| p.get(parameter.as_str()));
        let choices: Vec<String> = ["Default", "AllowedValues"]
            .iter()
            .filter_map(|key| spec.and_then(|s| s.get(key)).and_then(text_of))
            .flat_map(|text| text.split(',').map(str::to_owned).collect::<Vec<_>>())
            .collect();
        return choices.is_empty() || choices.iter().any(|c| words.contains(&c.as_str()));
    }
    match policy {
        Value::String(s) => words.contains(&s.as_str()),
        Value::Sequence(items) => items.iter().any(|v| may_say(v, words, root)),
        Value::Mapping(m) => m.values().any(|v| may_say(v, words, root)),
        Value::Tagged(t) => may_say(&t.value, words, root),
        _ => false,
    }
}

/// RDS keeps a final snapshot of a database without a DeletionPolicy (one not in a
/// cluster), and of a cluster.
fn snapshots_by_default(kind: &str, properties: Option<&Mapping>) -> bool {
    match kind {
        "AWS::RDS::DBCluster" => true,
        "AWS::RDS::DBInstance" => properties.is_none_or(|p| p.get("DBClusterIdentifier").is_none()),
        _ => false,
    }
}

/// Resource types in plain words; an unknown type is shown as itself.
const PLAIN: &[(&str, &str)] = &[
    ("AWS::ECS::Cluster", "an ECS cluster"),
    ("AWS::ECS::Service", "an ECS service"),
    ("AWS::ECS::TaskDefinition", "an ECS task definition"),
    ("AWS::ECS::CapacityProvider", "an ECS capacity provider"),
    (
        "AWS::ECS::ClusterCapacityProviderAssociations",
        "the cluster's capacity providers",
    ),
    ("AWS::ECR::Repository", "an ECR image repository"),
    (
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "a load balancer target group",
    ),
    (
        "AWS::ElasticLoadBalancingV2::Listener",
        "a load balancer listener",
    ),
    (
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "a load balancer listener rule",
    ),
    (
        "AWS::ElasticLoadBalancingV2::ListenerCertificate",
        "a load balancer certificate",
    ),
    ("AWS::EC2::VPC", "a VPC"),
    ("AWS::EC2::Subnet", "a subnet"),
    ("AWS::EC2::SecurityGroup", "a security group"),
    (
        "AWS::EC2::SecurityGroupIngress",
        "a security group rule (inbound)",
    ),
    (
        "AWS::EC2::SecurityGroupEgress",
        "a security group rule (outbound)",
    ),
    ("AWS::EC2::InternetGateway", "an internet gateway"),
    ("AWS::EC2::VPCGatewayAttachment", "a gateway attachment"),
    ("AWS::EC2::RouteTable", "a route table"),
    ("AWS::EC2::Route", "a route"),
    (
        "AWS::EC2::SubnetRouteTableAssociation",
        "a subnet's route table association",
    ),
    ("AWS::EC2::NatGateway", "a NAT gateway"),
    ("AWS::EC2::EIP", "an Elastic IP address"),
    ("AWS::EC2::Instance", "an EC2 instance"),
    ("AWS::EC2::LaunchTemplate", "an EC2 launch template"),
    ("AWS::EC2::VPCEndpoint", "a VPC endpoint"),
    (
        "AWS::AutoScaling::AutoScalingGroup",
        "an EC2 Auto Scaling group",
    ),
    ("AWS::EFS::FileSystem", "an EFS file system"),
    ("AWS::EFS::MountTarget", "an EFS mount target"),
    ("AWS::EFS::AccessPoint", "an EFS access point"),
    ("AWS::RDS::DBInstance", "an RDS database"),
    ("AWS::RDS::DBCluster", "an Aurora database cluster"),
    ("AWS::RDS::DBSubnetGroup", "an RDS subnet group"),
    ("AWS::RDS::DBParameterGroup", "an RDS parameter group"),
    ("AWS::ElastiCache::CacheCluster", "an ElastiCache cluster"),
    (
        "AWS::ElastiCache::ReplicationGroup",
        "an ElastiCache replication group",
    ),
    (
        "AWS::ElastiCache::SubnetGroup",
        "an ElastiCache subnet group",
    ),
    ("AWS::DynamoDB::Table", "a DynamoDB table"),
    ("AWS::S3::Bucket", "an S3 bucket"),
    ("AWS::S3::BucketPolicy", "an S3 bucket policy"),
    ("AWS::SecretsManager::Secret", "a Secrets Manager secret"),
    ("AWS::SSM::Parameter", "a Systems Manager parameter"),
    ("AWS::KMS::Key", "a KMS encryption key"),
    ("AWS::KMS::Alias", "a KMS key alias"),
    ("AWS::Logs::LogGroup", "a CloudWatch log group"),
    ("AWS::CloudWatch::Alarm", "a CloudWatch alarm"),
    ("AWS::Events::Rule", "an EventBridge rule"),
    ("AWS::SNS::Topic", "an SNS topic"),
    ("AWS::SQS::Queue", "an SQS queue"),
    ("AWS::Lambda::Function", "a Lambda function"),
    ("AWS::Lambda::Permission", "a Lambda permission"),
    (
        "AWS::ServiceDiscovery::PrivateDnsNamespace",
        "a private DNS namespace (Cloud Map)",
    ),
    (
        "AWS::ServiceDiscovery::HttpNamespace",
        "a service discovery namespace (Cloud Map)",
    ),
    (
        "AWS::ServiceDiscovery::Service",
        "a service discovery entry (Cloud Map)",
    ),
    ("AWS::Route53::HostedZone", "a Route 53 hosted zone"),
    ("AWS::Route53::RecordSet", "a DNS record"),
    (
        "AWS::CertificateManager::Certificate",
        "a TLS certificate (ACM)",
    ),
    ("AWS::CloudFront::Distribution", "a CloudFront distribution"),
    (
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "an autoscaling target",
    ),
    (
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "an autoscaling policy",
    ),
    ("AWS::CloudFormation::Stack", "a nested stack"),
    (
        "AWS::CloudFormation::CustomResource",
        "a custom resource (runs the template's own code)",
    ),
    ("AWS::IAM::Role", "an IAM role"),
    ("AWS::IAM::User", "an IAM user"),
    ("AWS::IAM::Group", "an IAM group"),
    ("AWS::IAM::Policy", "an IAM policy"),
    ("AWS::IAM::ManagedPolicy", "an IAM managed policy"),
    ("AWS::IAM::RolePolicy", "an IAM role policy"),
    ("AWS::IAM::UserPolicy", "an IAM user policy"),
    ("AWS::IAM::GroupPolicy", "an IAM group policy"),
    ("AWS::IAM::InstanceProfile", "an IAM instance profile"),
    ("AWS::IAM::AccessKey", "an IAM access key"),
    ("AWS::IAM::UserToGroupAddition", "an IAM group membership"),
    ("AWS::IAM::ServiceLinkedRole", "an IAM service-linked role"),
];

fn plain_words(kind: &str, properties: Option<&Mapping>) -> String {
    if kind == "AWS::ElasticLoadBalancingV2::LoadBalancer" {
        return match literal(properties, "Type").as_deref() {
            Some("network") => "a Network Load Balancer",
            Some("gateway") => "a Gateway Load Balancer",
            _ => "an Application Load Balancer",
        }
        .into();
    }
    if kind.starts_with("Custom::") {
        return format!("a custom resource {kind} (runs the template's own code)");
    }
    PLAIN
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or_else(|| kind.to_owned(), |(_, plain)| (*plain).to_owned())
}

/// What bills while a resource exists, in round words; None for the free kinds. The
/// amounts are us-east-1's on-demand prices, rounded; other regions differ a little.
fn paid(kind: &str, properties: Option<&Mapping>, resources: &Mapping) -> Option<String> {
    let words = match kind {
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
            let internal = literal(properties, "Scheme").as_deref() == Some("internal");
            let ipv4 = if internal {
                ""
            } else {
                ", and about $3.60 a month for each public IPv4 address (one per Availability Zone)"
            };
            match literal(properties, "Type").as_deref() {
                Some("gateway") => format!("about $9 a month plus traffic{ipv4}"),
                Some("network") => format!("about $16 a month plus traffic (NLCUs){ipv4}"),
                _ => format!("about $16 a month plus traffic (LCUs){ipv4}"),
            }
        }
        "AWS::EC2::NatGateway" => "about $33 a month, plus $0.045 per GB it carries".into(),
        "AWS::EC2::EIP" => "about $3.60 a month (a public IPv4 address)".into(),
        "AWS::EC2::Instance" => by_the_hour("its instance type", properties, "InstanceType"),
        "AWS::EC2::VPCEndpoint" => match literal(properties, "VpcEndpointType").as_deref() {
            Some("Interface") | Some("GatewayLoadBalancer") => {
                "about $7.30 a month for each Availability Zone, plus traffic".into()
            }
            _ => return None,
        },
        "AWS::RDS::DBInstance" => rds_instance(properties),
        "AWS::RDS::DBCluster" => "its database instances by the hour, plus storage and I/O".into(),
        "AWS::ElastiCache::CacheCluster" | "AWS::ElastiCache::ReplicationGroup" => {
            by_the_hour("its node type", properties, "CacheNodeType")
        }
        "AWS::EFS::FileSystem" => "about $0.30 per GB stored each month (Standard storage)".into(),
        "AWS::S3::Bucket" => "about $0.023 per GB stored each month, plus requests".into(),
        "AWS::SecretsManager::Secret" => "$0.40 a month, plus $0.05 per 10,000 reads".into(),
        "AWS::KMS::Key" => "$1 a month, plus requests".into(),
        "AWS::Route53::HostedZone" => "$0.50 a month, plus queries".into(),
        "AWS::DynamoDB::Table" => {
            "per request or provisioned capacity, plus about $0.25 per GB stored each month".into()
        }
        "AWS::Lambda::Function" => {
            "per request and per GB-second it runs (the free tier covers light use)".into()
        }
        "AWS::CloudWatch::Alarm" => "$0.10 a month".into(),
        "AWS::CloudFront::Distribution" => "per GB delivered and per request".into(),
        "AWS::ECS::Service" => return ecs_service(properties, resources),
        _ => return None,
    };
    Some(words)
}

fn by_the_hour(what: &str, properties: Option<&Mapping>, key: &str) -> String {
    match literal(properties, key) {
        Some(size) => format!("{size} by the hour"),
        None => format!("{what} by the hour"),
    }
}

fn rds_instance(properties: Option<&Mapping>) -> String {
    let class = by_the_hour("its instance class", properties, "DBInstanceClass");
    let multi_az = literal(properties, "MultiAZ").as_deref() == Some("true");
    let standby = if multi_az {
        " (twice: Multi-AZ keeps a standby)"
    } else {
        ""
    };
    match literal(properties, "AllocatedStorage") {
        Some(gb) => format!("{class}{standby}, plus {gb} GB of storage each month"),
        None => format!("{class}{standby}, plus its storage each month"),
    }
}

/// A service bills for its Fargate tasks, sized by its task definition when the template
/// writes the size out; on EC2 or external instances it bills nothing of its own.
fn ecs_service(properties: Option<&Mapping>, resources: &Mapping) -> Option<String> {
    if matches!(
        literal(properties, "LaunchType").as_deref(),
        Some("EC2" | "EXTERNAL")
    ) {
        return None;
    }
    let definition = properties
        .and_then(|p| p.get("TaskDefinition"))
        .and_then(reference)
        .and_then(|id| resources.get(id.as_str()))
        .and_then(|r| r.get("Properties"))
        .and_then(Value::as_mapping);
    let size = match (
        literal(definition, "Cpu").and_then(|c| c.parse::<f64>().ok()),
        literal(definition, "Memory").and_then(|m| m.parse::<f64>().ok()),
    ) {
        (Some(cpu), Some(memory)) => {
            format!(" ({} vCPU and {} GB each)", cpu / 1024.0, memory / 1024.0)
        }
        _ => String::new(),
    };
    let public = properties
        .and_then(|p| p.get("NetworkConfiguration"))
        .and_then(|n| n.get("AwsvpcConfiguration"))
        .and_then(|a| a.get("AssignPublicIp"))
        .and_then(written)
        == Some("ENABLED");
    let ipv4 = if public {
        ", and about $3.60 a month for each task's public IPv4 address"
    } else {
        ""
    };
    Some(format!(
        "its Fargate tasks by the second while they run{size}{ipv4}"
    ))
}

/// The IAM resource types, which need CAPABILITY_IAM, and the property that names each
/// (a name needs CAPABILITY_NAMED_IAM).
const IAM_TYPES: &[(&str, &str, Option<&str>)] = &[
    ("AWS::IAM::Role", "IAM role", Some("RoleName")),
    ("AWS::IAM::User", "IAM user", Some("UserName")),
    ("AWS::IAM::Group", "IAM group", Some("GroupName")),
    (
        "AWS::IAM::ManagedPolicy",
        "IAM managed policy",
        Some("ManagedPolicyName"),
    ),
    (
        "AWS::IAM::InstanceProfile",
        "IAM instance profile",
        Some("InstanceProfileName"),
    ),
    ("AWS::IAM::Policy", "IAM policy", None),
    ("AWS::IAM::RolePolicy", "IAM role policy", None),
    ("AWS::IAM::UserPolicy", "IAM user policy", None),
    ("AWS::IAM::GroupPolicy", "IAM group policy", None),
    ("AWS::IAM::AccessKey", "IAM access key", None),
    (
        "AWS::IAM::UserToGroupAddition",
        "IAM group membership",
        None,
    ),
];

fn iam_resource(id: &str, kind: &str, properties: Option<&Mapping>) -> Option<IamResource> {
    let (_, plain, name_key) = IAM_TYPES.iter().find(|(k, _, _)| *k == kind)?;
    let naming = name_key
        .and_then(|key| properties.and_then(|p| p.get(key)))
        .and_then(naming);
    let mut grants = Vec::new();
    if let Some(properties) = properties {
        grants_of(properties, &mut grants);
    }
    Some(IamResource {
        logical_id: id.to_owned(),
        kind: kind.to_owned(),
        plain: (*plain).to_owned(),
        naming,
        grants,
    })
}

/// How an explicit name reads: a literal or a `!Sub` as written, a `!Ref` by what it
/// refers to. `!Ref AWS::NoValue` is no name.
fn naming(value: &Value) -> Option<String> {
    if let Some(s) = written(value) {
        return Some(format!("named {s}"));
    }
    match intrinsic(value) {
        Some((name, Value::String(target))) if name == "Ref" => match target.as_str() {
            "AWS::NoValue" => None,
            "AWS::StackName" => Some("named after the stack".into()),
            target => Some(format!("named by parameter {target}")),
        },
        Some((name, argument)) if name == "Sub" => Some(match sub_text(argument) {
            Some(text) => format!("named {text}"),
            None => "with a name the template works out".into(),
        }),
        Some(_) => Some("with a name the template works out".into()),
        None if value.is_null() => None,
        None => Some("with a name of its own".into()),
    }
}

/// The managed policies attached and the actions allowed by the policies written out,
/// each once, in order.
fn grants_of(properties: &Mapping, grants: &mut Vec<String>) {
    let mut add = |grant: String| {
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    };
    for arn in properties
        .get("ManagedPolicyArns")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        if let Some(text) = written(arn).or_else(|| {
            intrinsic(arn)
                .filter(|(name, _)| name == "Sub")
                .and_then(|(_, argument)| sub_text(argument))
        }) {
            add(text.rsplit('/').next().unwrap_or(text).to_owned());
        }
    }
    let inline = properties
        .get("Policies")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("PolicyDocument"));
    for document in properties.get("PolicyDocument").into_iter().chain(inline) {
        let statements = match document.get("Statement") {
            Some(Value::Sequence(items)) => items.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        for statement in statements {
            if statement.get("Effect").and_then(written) != Some("Allow") {
                continue;
            }
            match statement.get("Action") {
                Some(Value::String(action)) => add(action.clone()),
                Some(Value::Sequence(actions)) => actions
                    .iter()
                    .filter_map(written)
                    .for_each(|a| add(a.to_owned())),
                _ => {}
            }
            if let Some(not) = statement.get("NotAction").and_then(text_of) {
                add(format!("everything except {not}"));
            }
        }
    }
}

fn outputs(file: &str, text: &str, root: &Mapping) -> Result<Vec<TemplateOutput>> {
    let Some(section) = root.get("Outputs").and_then(Value::as_mapping) else {
        return Ok(Vec::new());
    };
    section
        .iter()
        .map(|(id, spec)| {
            let id = id.as_str().unwrap_or_default();
            if spec.get("Value").is_none() {
                return Err(invalid(
                    file,
                    line_of(text, Some("Outputs"), id),
                    format!("output {id} has no Value; give it one or remove the output"),
                ));
            }
            let export = spec.get("Export").and_then(|e| e.get("Name"));
            Ok(TemplateOutput {
                logical_id: id.to_owned(),
                description: spec.get("Description").and_then(text_of),
                exported: export.is_some(),
                export_name: export.and_then(|name| {
                    written(name).map(str::to_owned).or_else(|| {
                        intrinsic(name)
                            .filter(|(f, _)| f == "Sub")
                            .and_then(|(_, argument)| sub_text(argument))
                            .map(str::to_owned)
                    })
                }),
            })
        })
        .collect()
}

/// The macros named in the `Transform` section: one name, a list, or a name with
/// parameters.
fn transforms(root: &Mapping) -> Vec<String> {
    fn name(value: &Value) -> Option<String> {
        value
            .as_str()
            .or_else(|| value.get("Name").and_then(Value::as_str))
            .map(str::to_owned)
    }
    match root.get("Transform") {
        Some(Value::Sequence(items)) => items.iter().filter_map(name).collect(),
        Some(one) => name(one).into_iter().collect(),
        None => Vec::new(),
    }
}

/// NAMED_IAM covers IAM as well, so a template asks for one or the other. AUTO_EXPAND
/// comes with a macro: a `Transform` section, `Fn::Transform` anywhere, or serverless
/// resources (which only exist through their macro). Nested stacks' own needs are not
/// visible here; CloudFormation names them when it refuses.
fn capabilities(
    root: &Mapping,
    iam: &[IamResource],
    resources: &[TemplateResource],
    transforms: &[String],
) -> Vec<Capability> {
    let mut capabilities = Vec::new();
    let serverless = resources
        .iter()
        .any(|r| r.kind.starts_with("AWS::Serverless::"));
    if iam.iter().any(|r| r.naming.is_some()) {
        capabilities.push(Capability::NamedIam);
    } else if !iam.is_empty() || serverless {
        // A serverless function without a Role gets one made by its macro.
        capabilities.push(Capability::Iam);
    }
    let macro_call = root.values().any(calls_transform);
    if !transforms.is_empty() || serverless || macro_call {
        capabilities.push(Capability::AutoExpand);
    }
    capabilities
}

fn calls_transform(value: &Value) -> bool {
    if intrinsic(value).is_some_and(|(name, _)| name == "Transform") {
        return true;
    }
    match value {
        Value::Sequence(items) => items.iter().any(calls_transform),
        Value::Mapping(m) => m.contains_key("Fn::Transform") || m.values().any(calls_transform),
        Value::Tagged(t) => calls_transform(&t.value),
        _ => false,
    }
}

/// Checks a form's values as CloudFormation will, so a bad one is refused before any
/// call: a value or a default for each parameter, then its constraints. Values for
/// names the template does not have are problems too. A `NoEcho` value never appears in
/// a message.
pub fn check_values(template: &Template, values: &BTreeMap<String, String>) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    for p in &template.parameters {
        let (value, from_default) = match (values.get(&p.name), &p.default) {
            (Some(value), _) => (value, false),
            (None, Some(default)) => (default, true),
            (None, None) => {
                let message = match p.picker {
                    Some(picker) => format!("{}; the template has no default", picker.asks()),
                    None => "needs a value; the template has no default".into(),
                };
                problems.push(problem(p, message));
                continue;
            }
        };
        if let Some(message) = check_value(p, value) {
            let message = if from_default {
                format!("{message} (this is the template's default: give a value)")
            } else {
                message
            };
            problems.push(problem(p, message));
        }
    }
    for name in values.keys().filter(|n| template.parameter(n).is_none()) {
        let hint = closest(template, name)
            .map(|near| format!("; did you mean {near}?"))
            .unwrap_or_else(|| "; remove it or check its spelling".into());
        problems.push(FieldProblem {
            field: name.clone(),
            message: format!("the template has no parameter {name}{hint}"),
        });
    }
    problems
}

fn problem(p: &Parameter, message: String) -> FieldProblem {
    FieldProblem {
        field: p.name.clone(),
        message,
    }
}

/// The first thing wrong with `value` for `p`, in the template's words when it gives a
/// ConstraintDescription.
fn check_value(p: &Parameter, value: &str) -> Option<String> {
    if let Some(picker) = p.picker {
        if value.is_empty() {
            return Some(picker.asks().to_owned());
        }
    }
    let items: Vec<&str> = if p.list {
        value.split(',').collect()
    } else {
        vec![value]
    };
    let fault = items
        .iter()
        .find_map(|item| check_item(p, item))
        .or_else(|| (!p.list).then(|| check_length(p, value)).flatten())?;
    Some(match fault {
        Fault::Constraint(own) => p.constraint_description.clone().unwrap_or(own),
        Fault::Shape(message) => message,
    })
}

/// What is wrong with a value: breaking a constraint the template sets (said in its
/// ConstraintDescription when it has one), or not being the kind of value at all.
enum Fault {
    Constraint(String),
    Shape(String),
}

fn check_item(p: &Parameter, item: &str) -> Option<Fault> {
    let shown = shown_value(p, item);
    if let Some((prefix, example)) = p.picker.and_then(|picker| picker.id_shape()) {
        if !item.starts_with(prefix) {
            return Some(Fault::Shape(format!(
                "{shown} is not such an id (they look like {example}); {}",
                p.picker.map_or("", |picker| picker.asks())
            )));
        }
    }
    let numeric = matches!(p.kind.as_str(), "Number" | "List<Number>");
    let number = if numeric {
        match item.parse::<f64>().ok().filter(|n| n.is_finite()) {
            Some(n) => Some(n),
            None => return Some(Fault::Shape(format!("{shown} is not a number"))),
        }
    } else {
        None
    };
    if !p.allowed_values.is_empty() && !p.allowed_values.iter().any(|a| same(a, item, number)) {
        return Some(Fault::Constraint(format!(
            "{shown} is not one of the allowed values: {}",
            p.allowed_values.join(", ")
        )));
    }
    if let Some(pattern) = &p.allowed_pattern {
        // A pattern beyond Rust's regular expressions is left to CloudFormation.
        if let Ok(re) = whole_match(pattern) {
            if !re.is_match(item) {
                return Some(Fault::Constraint(format!(
                    "{shown} does not match the pattern the template asks for: {pattern}"
                )));
            }
        }
    }
    if let Some(n) = number {
        return check_range(p, n);
    }
    None
}

fn same(allowed: &str, item: &str, number: Option<f64>) -> bool {
    allowed == item || number.is_some_and(|n| allowed.parse::<f64>().ok() == Some(n))
}

fn check_range(p: &Parameter, n: f64) -> Option<Fault> {
    let message = match (p.min_value, p.max_value) {
        (Some(min), Some(max)) if n < min || n > max => {
            format!("must be between {min} and {max}")
        }
        (Some(min), None) if n < min => format!("must be at least {min}"),
        (None, Some(max)) if n > max => format!("must be at most {max}"),
        _ => return None,
    };
    Some(Fault::Constraint(message))
}

/// Lengths count characters, as CloudFormation does, and apply to a value as a whole.
fn check_length(p: &Parameter, value: &str) -> Option<Fault> {
    if p.kind == "Number" {
        return None;
    }
    let length = value.chars().count() as u64;
    let message = match (p.min_length, p.max_length) {
        (Some(min), _) if length < u64::from(min) => {
            format!("must be at least {min} characters long")
        }
        (_, Some(max)) if length > u64::from(max) => {
            format!("must be at most {max} characters long")
        }
        _ => return None,
    };
    Some(Fault::Constraint(message))
}

/// A value as a message may quote it: never a `NoEcho` one.
fn shown_value(p: &Parameter, value: &str) -> String {
    if p.no_echo {
        "the value".into()
    } else {
        format!("\"{value}\"")
    }
}

/// The template's parameter a misspelt name most likely meant: the same but for case, or
/// at most two edits away.
fn closest<'a>(template: &'a Template, name: &str) -> Option<&'a str> {
    template
        .parameters
        .iter()
        .map(|p| {
            let distance = if p.name.eq_ignore_ascii_case(name) {
                0
            } else {
                edit_distance(&p.name.to_lowercase(), &name.to_lowercase())
            };
            (distance, p.name.as_str())
        })
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// `values` as they may be shown or saved: a `NoEcho` parameter's value is [`MASK`], and
/// so is a value for a name the template does not have (it may be a misspelt secret).
pub fn masked(template: &Template, values: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|(name, value)| {
            let secret = template.parameter(name).is_none_or(|p| p.no_echo);
            let shown = if secret {
                MASK.to_owned()
            } else {
                value.clone()
            };
            (name.clone(), shown)
        })
        .collect()
}

/// The intrinsic function `value` calls, short-form (`!Sub x`) or long-form
/// (`{"Fn::Sub": x}`), named without `Fn::`, with its argument.
fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            Some((tag.trim_start_matches('!').to_owned(), &tagged.value))
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (key, argument) = m.iter().next()?;
            let key = key.as_str()?;
            if key == "Ref" {
                Some(("Ref".into(), argument))
            } else {
                key.strip_prefix("Fn::").map(|f| (f.to_owned(), argument))
            }
        }
        _ => None,
    }
}

/// The logical id a `!Ref` names.
fn reference(value: &Value) -> Option<String> {
    intrinsic(value)
        .filter(|(name, _)| name == "Ref")
        .and_then(|(_, target)| target.as_str().map(str::to_owned))
}

/// A string written out as such. (`Value::as_str` also reads through a tag, taking
/// `!Ref AWS::NoValue` for the text `AWS::NoValue`.)
fn written(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// The text of a `!Sub`: a string, or the first item of `[string, variables]`.
fn sub_text(argument: &Value) -> Option<&str> {
    written(argument).or_else(|| written(argument.as_sequence()?.first()?))
}

/// A literal property's text (a string, number or boolean), None for anything the
/// template works out.
fn literal(properties: Option<&Mapping>, key: &str) -> Option<String> {
    properties.and_then(|p| p.get(key)).and_then(text_of)
}

/// A scalar as text: strings as written, numbers and booleans as YAML shows them, a list
/// of scalars joined with commas (a list default written as a YAML list).
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Sequence(items) => items
            .iter()
            .map(|v| match v {
                Value::Sequence(_) => None,
                v => text_of(v),
            })
            .collect::<Option<Vec<_>>>()
            .map(|items| items.join(",")),
        _ => None,
    }
}

/// A number written as a number or as text ("12" is common in JSON templates).
fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The line where `key` is written as a key (under the top-level `section` when given),
/// for messages: the parsed tree keeps no positions, so the text is searched. A section
/// is a key as far left as the template's first key (`Parameters:` inside the Interface
/// metadata is not the section).
fn line_of(text: &str, section: Option<&str>, key: &str) -> Option<usize> {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let top = text
        .lines()
        .find(|l| key_of(l).is_some() && !l.trim_start().starts_with('#'))
        .map(indent)?;
    let mut inside = section.is_none();
    for (index, line) in text.lines().enumerate() {
        let found = key_of(line);
        if !inside {
            inside = found.is_some() && found == section && indent(line) == top;
            continue;
        }
        if found == Some(key) {
            return Some(index + 1);
        }
    }
    None
}

/// The key a line starts with: `Key:` in YAML, `"Key":` in JSON.
fn key_of(line: &str) -> Option<&str> {
    let line = line.trim_start().trim_start_matches(['{', ',', ' ']);
    if let Some(rest) = line.strip_prefix('"') {
        let end = rest.find('"')?;
        return rest[end + 1..]
            .trim_start()
            .starts_with(':')
            .then(|| &rest[..end]);
    }
    let end = line.find(':')?;
    let key = line[..end].trim_end();
    (!key.is_empty() && !key.contains(' ')).then_some(key)
}

fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn invalid(file: &str, line: Option<usize>, problem: impl Into<String>) -> EngineError {
    EngineError::TemplateInvalid {
        file: file.to_owned(),
        line,
        problem: problem.into(),
    }
}

#[cfg(test)]
mod tests;
