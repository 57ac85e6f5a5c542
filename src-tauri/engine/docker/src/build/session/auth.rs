//! The registry side of a BuildKit session: when the engine pulls a base image, it asks
//! the session for that registry's sign-in, and gets the one Docker keeps for it (the
//! Docker config's credential helper or `auths` entry, as `docker login` left it), so a
//! `FROM` a private registry builds as it does with `docker build`. A registry without a
//! sign-in is pulled from anonymously. The engine fetches its tokens itself.

use bollard::moby::filesync::v1::auth_server::Auth;
use bollard::moby::filesync::v1::{
    CredentialsRequest, CredentialsResponse, FetchTokenRequest, FetchTokenResponse,
    GetTokenAuthorityRequest, GetTokenAuthorityResponse, VerifyTokenAuthorityRequest,
    VerifyTokenAuthorityResponse,
};
use tonic::{Request, Response, Status};

use crate::docker::credentials;
use slipway_core::host::HostEnv;
use slipway_core::project::image_ref::ImageRef;

pub struct RegistryAuth {
    pub host: HostEnv,
}

#[tonic::async_trait]
impl Auth for RegistryAuth {
    async fn credentials(
        &self,
        request: Request<CredentialsRequest>,
    ) -> Result<Response<CredentialsResponse>, Status> {
        let registry = request.into_inner().host;
        let host = self.host.clone();
        let login = tokio::task::spawn_blocking(move || {
            let reference = ImageRef::parse(&format!("{}/base", registry_name(&registry))).ok()?;
            match credentials::login_for(&host, &reference) {
                Ok(login) => login,
                Err(problem) => {
                    tracing::warn!("no sign-in for {registry}: {problem}");
                    None
                }
            }
        })
        .await
        .ok()
        .flatten();
        let answer = match login {
            // An identity token goes as the secret with no user name, as Docker sends it.
            Some(login) => match login.credentials.identitytoken {
                Some(token) => CredentialsResponse {
                    username: String::new(),
                    secret: token,
                },
                None => CredentialsResponse {
                    username: login.username,
                    secret: login.credentials.password.unwrap_or_default(),
                },
            },
            None => CredentialsResponse::default(),
        };
        Ok(Response::new(answer))
    }

    async fn fetch_token(
        &self,
        _request: Request<FetchTokenRequest>,
    ) -> Result<Response<FetchTokenResponse>, Status> {
        Err(Status::unimplemented(
            "the engine fetches registry tokens itself",
        ))
    }

    async fn get_token_authority(
        &self,
        _request: Request<GetTokenAuthorityRequest>,
    ) -> Result<Response<GetTokenAuthorityResponse>, Status> {
        Err(Status::unimplemented("no token authority"))
    }

    async fn verify_token_authority(
        &self,
        _request: Request<VerifyTokenAuthorityRequest>,
    ) -> Result<Response<VerifyTokenAuthorityResponse>, Status> {
        Err(Status::unimplemented("no token authority"))
    }
}

/// The registry as an image reference names it: BuildKit asks for Docker Hub by the host
/// its API answers on.
fn registry_name(host: &str) -> &str {
    match host {
        "registry-1.docker.io" | "index.docker.io" => "docker.io",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_is_asked_for_by_its_api_host() {
        assert_eq!(registry_name("registry-1.docker.io"), "docker.io");
        assert_eq!(registry_name("127.0.0.1:5056"), "127.0.0.1:5056");
        let hub = ImageRef::parse(&format!("{}/base", registry_name("registry-1.docker.io")));
        assert_eq!(
            hub.unwrap().config_key(),
            slipway_core::project::image_ref::DOCKER_HUB_CONFIG_KEY
        );
    }
}
