//! AWS as the user has set it up: the AWS CLI's profile files, the one place SDK clients
//! are configured from, and who the credentials belong to.

pub mod add_profile;
pub mod classify;
pub mod config;
pub mod identity;
pub mod profiles;
pub mod sign_in;
mod sso;

pub use add_profile::{add_access_key_profile, NewAccessKeyProfile, Secret};
pub use classify::classify;
pub use config::{region_for, sdk_config, AwsContext, AwsTarget, CredentialSource};
pub use identity::{connect, whoami, CallerIdentity, Connection};
pub use profiles::{read_profiles, AwsProfile, AwsProfiles, ProfileKind};
pub use sign_in::{
    request_for_profile, save_sso_profile, sign_in, NewSsoProfile, SsoSignInEvent,
    SsoSignInRequest, SsoSignedIn,
};
