//! Slipway's Docker side: finding the local engine, the build context, pre-flight, builds
//! (BuildKit where the engine has it), local previews that run a release as Fargate would,
//! and the local releases Docker's image list records. Builds on `slipway-core`; knows
//! nothing of AWS.

pub mod build;
pub mod context;
pub mod docker;
pub mod preflight;
pub mod preview;
pub mod releases;
