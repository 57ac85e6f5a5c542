//! AWS as the user has set it up: the AWS CLI's profile files, the one place SDK clients
//! are configured from, and who the credentials belong to.

pub mod config;
pub mod identity;
pub mod profiles;
mod sso;

pub use config::{sdk_config, AwsContext, AwsTarget, CredentialSource};
pub use identity::{whoami, CallerIdentity};
pub use profiles::{read_profiles, AwsProfile, AwsProfiles, ProfileKind};
