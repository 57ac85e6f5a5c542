//! End to end, a vendor's template in the real window: a user opens Templates & services, picks
//! the region, opens the server template (ALB, EFS, a secret, a named IAM role), fills its
//! form with the account's VPC and subnets from the pickers and a database password, sees a
//! bad version refused as typed, reviews what it makes (the IAM role named, what bills, what
//! stays), creates it, reads its outputs, scales the service it runs, and deletes it after
//! seeing what stays behind.
//! The password never reaches Slipway's log or data files. The emulator plays AWS.

mod e2e;

use std::time::Duration;

use aws_sdk_cloudformation::Client;
use slipway_testkit::FaultProxy;

const REGION: &str = "sa-east-1";
const PASSWORD: &str = "e2e-Stack-Passw0rd-9431";
/// Slipway's lines and every AWS request and answer logged in full, so the checks that a
/// secret is nowhere read what a support bundle would hold.
const LOG: &str =
    "info,slipway_aws=debug,slipway_app=debug,aws_smithy_runtime::client::orchestrator=trace";

#[tokio::test(flavor = "multi_thread")]
async fn a_template_becomes_a_stack_with_outputs_from_the_window() {
    let Some(session) = e2e::Session::start_env("stacks", &[("SLIPWAY_LOG", LOG.into())]).await
    else {
        return;
    };
    let arranged = session.arrange_emulator(REGION).await;
    // The window reaches the emulator through the test kit's proxy, which answers a
    // stack's list parameter as AWS writes it (moto writes Python's list).
    let proxy = FaultProxy::start(&session.endpoint).await;
    session.write_aws_config(&format!(
        "[default]\nregion = us-east-1\nendpoint_url = {}\n",
        proxy.url()
    ));
    let stack = format!("e2e-server-{}", std::process::id());
    session.open_templates(REGION).await;
    session.open_template_as("server.yaml", &stack).await;

    // The VPC picker lists the region's VPCs; choosing the default one offers its subnets.
    let vpc = "[data-testid=param-VpcId] select";
    session
        .text_containing(vpc, "the default VPC", Duration::from_secs(30))
        .await;
    session
        .client_execute(
            &format!(
                "const s = document.querySelector('{vpc}');
                 const o = [...s.options].find((o) => o.textContent.includes('the default VPC'));
                 s.value = o.value;
                 s.dispatchEvent(new Event('change', {{ bubbles: true }}));"
            ),
            vec![],
        )
        .await;
    // The default VPC's subnets, once listed for it (the description alone says "public").
    session
        .text_containing(
            "[data-testid=param-SubnetIds] .choices",
            "public ·",
            Duration::from_secs(30),
        )
        .await;
    session
        .click("[data-testid=param-SubnetIds] .choice:nth-child(1) input")
        .await;
    session
        .click("[data-testid=param-SubnetIds] .choice:nth-child(2) input")
        .await;

    // A version the template's pattern refuses is said as typed, with the template's words.
    session
        .fill("[data-testid=param-ImageTag] input", "1.5")
        .await;
    session
        .text_containing(
            "[data-testid=param-ImageTag]",
            "must be latest or a version such as v1.4.2",
            Duration::from_secs(10),
        )
        .await;
    assert!(!session.enabled("[data-testid=review-stack]").await);
    session
        .fill("[data-testid=param-ImageTag] input", "v1.5.0")
        .await;
    session
        .fill("[data-testid=param-DatabasePassword] input", PASSWORD)
        .await;
    session.screenshot("stacks-form").await;

    // The review: the IAM role that needs the capability, by name; what bills; what stays.
    session
        .click_until(
            "[data-testid=review-stack]",
            "[data-testid=stack-review]",
            Duration::from_secs(30),
        )
        .await;
    let capabilities = session
        .text("[data-testid=review-capabilities]", Duration::from_secs(5))
        .await;
    assert!(capabilities.contains("TaskRole"), "{capabilities}");
    let paid = session
        .text("[data-testid=review-paid]", Duration::from_secs(5))
        .await;
    assert!(paid.contains("LoadBalancer"), "{paid}");
    let retained = session
        .text("[data-testid=review-retained]", Duration::from_secs(5))
        .await;
    assert!(retained.contains("DataFileSystem"), "{retained}");
    assert!(!session.enabled("[data-testid=apply-stack]").await);
    session.click("[data-testid=acknowledge]").await;
    session.screenshot("stacks-review").await;
    session.click("[data-testid=apply-stack]").await;

    // Created: the outputs, the load balancer's address among them.
    let outputs = session
        .text_containing(
            "[data-testid=stack-outputs]",
            "ServerUrl",
            Duration::from_secs(120),
        )
        .await;
    assert!(outputs.contains("http://"), "{outputs}");
    assert!(outputs.contains(&stack), "the cluster output: {outputs}");
    session.screenshot("stacks-outputs").await;
    let cf = Client::new(&arranged.connection.ctx.sdk);
    let created = cf
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.stacks()[0].stack_status().unwrap().as_str(),
        "CREATE_COMPLETE"
    );

    // The stack's service, operated from its outputs: the emulator starts no task for a
    // service a template made (its launch type is EC2 there), so none runs; scaling it is seen.
    session.click("[data-testid=stack-service]").await;
    let state = session
        .text_containing(
            "[data-testid=service-state]",
            "of 1",
            Duration::from_secs(30),
        )
        .await;
    assert!(state.contains("revision 1"), "{state}");
    session.fill("[data-testid=service-desired]", "2").await;
    session.click("[data-testid=service-scale]").await;
    session
        .text_containing(
            "[data-testid=service-said]",
            "now keeps 2 tasks running (was 1)",
            Duration::from_secs(30),
        )
        .await;
    session
        .text_containing(
            "[data-testid=service-state]",
            "of 2",
            Duration::from_secs(30),
        )
        .await;
    session.screenshot("stacks-service").await;
    let ecs = aws_sdk_ecs::Client::new(&arranged.connection.ctx.sdk);
    let described = ecs
        .describe_services()
        .cluster(&stack)
        .services("server")
        .send()
        .await
        .unwrap();
    assert_eq!(described.services()[0].desired_count(), 2);
    session
        .click("[data-testid=service-view] .card-head button:last-child")
        .await;

    // An upgrade is a parameter change: the same template for the same stack fills the form
    // with what the stack runs (never its password, which it keeps when left empty), and
    // the review lists the change set's changes.
    session
        .click("[data-testid=stack-view] .card-head .actions button:last-child")
        .await;
    session.open_template_as("server.yaml", &stack).await;
    let tag = "[data-testid=param-ImageTag] input";
    session.click(tag).await;
    let filled = session
        .input_value(tag, |v| v == "v1.5.0", Duration::from_secs(10))
        .await;
    assert_eq!(
        filled, "v1.5.0",
        "the form shows the version the stack runs"
    );
    session.fill(tag, "v1.6.0").await;
    session
        .click_until(
            "[data-testid=review-stack]",
            "[data-testid=review-changes]",
            Duration::from_secs(30),
        )
        .await;
    let changing = session
        .text(
            "[data-testid=review-parameter-changes]",
            Duration::from_secs(5),
        )
        .await;
    assert!(changing.contains("ImageTag: v1.5.0 → v1.6.0"), "{changing}");
    assert!(
        !changing.contains("DatabasePassword"),
        "kept, not changed: {changing}"
    );
    session.screenshot("stacks-update-review").await;
    session.click("[data-testid=acknowledge]").await;
    session.click("[data-testid=apply-stack]").await;
    session
        .text_containing(
            "[data-testid=stack-view]",
            "updated",
            Duration::from_secs(120),
        )
        .await;
    let updated = cf
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .unwrap();
    let parameters = updated.stacks()[0].parameters();
    let value = |key: &str| {
        parameters
            .iter()
            .find(|p| p.parameter_key() == Some(key))
            .and_then(|p| p.parameter_value())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(value("ImageTag"), "v1.6.0");
    assert_eq!(value("DatabasePassword"), PASSWORD, "the password was kept");

    // The delete says what stays (the retained file system) before it deletes.
    session.click("[data-testid=stack-delete]").await;
    let stays = session
        .text_containing(
            "[data-testid=stack-delete-review]",
            "DataFileSystem",
            Duration::from_secs(30),
        )
        .await;
    assert!(stays.contains("keep billing"), "{stays}");
    session.click("[data-testid=stack-delete-confirm]").await;
    session
        .text_containing(
            "[data-testid=stack-list]",
            "Stacks in",
            Duration::from_secs(120),
        )
        .await;
    let gone = cf.describe_stacks().stack_name(&stack).send().await;
    let deleted = match gone {
        Err(_) => true,
        Ok(answer) => answer
            .stacks()
            .iter()
            .all(|s| s.stack_status().map(|s| s.as_str()) == Some("DELETE_COMPLETE")),
    };
    assert!(deleted, "the stack is still there after the delete");

    // The NoEcho value went to CloudFormation and nowhere else on this computer.
    session.assert_nowhere(PASSWORD);
    session.finish().await;
}

/// A secret created from a template's form: its value goes to Secrets Manager, its ARN to
/// the parameter, and nowhere on this computer.
#[tokio::test(flavor = "multi_thread")]
async fn a_secret_made_from_the_form_fills_the_parameter_with_its_arn() {
    const TOKEN: &str = "e2e-worker-token-5521-Zq";
    const WORKER_REGION: &str = "af-south-1";
    let Some(session) =
        e2e::Session::start_env("stacks-secret", &[("SLIPWAY_LOG", LOG.into())]).await
    else {
        return;
    };
    let arranged = session.arrange_emulator(WORKER_REGION).await;
    let stack = format!("e2e-worker-{}", std::process::id());
    session.open_templates(WORKER_REGION).await;
    session.open_template_as("worker.yaml", &stack).await;

    let field = "[data-testid=param-ApiTokenSecretArn]";
    session
        .click(&format!("{field} [data-testid=secret-new]"))
        .await;
    session
        .fill(&format!("{field} [data-testid=secret-new-value]"), TOKEN)
        .await;
    session
        .click(&format!("{field} [data-testid=secret-new-create]"))
        .await;
    let arn = session
        .input_value(
            &format!("{field} input"),
            |v| v.starts_with("arn:aws:secretsmanager:"),
            Duration::from_secs(20),
        )
        .await;
    assert!(arn.starts_with("arn:aws:secretsmanager:"), "{arn:?}");
    session.screenshot("stacks-secret").await;

    session
        .click_until(
            "[data-testid=review-stack]",
            "[data-testid=stack-review]",
            Duration::from_secs(30),
        )
        .await;
    session.click("[data-testid=apply-stack]").await;
    let outputs = session
        .text_containing(
            "[data-testid=stack-outputs]",
            "TokenSecret",
            Duration::from_secs(120),
        )
        .await;
    assert!(outputs.contains(&arn), "{outputs}");

    let secrets = aws_sdk_secretsmanager::Client::new(&arranged.connection.ctx.sdk);
    let kept = secrets
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.secret_string(), Some(TOKEN));
    session.assert_nowhere(TOKEN);

    // Deleting the stack says the secret made for it stays.
    session.click("[data-testid=stack-delete]").await;
    let stays = session
        .text_containing(
            "[data-testid=stack-delete-review]",
            &format!("{stack}/api-token"),
            Duration::from_secs(30),
        )
        .await;
    assert!(stays.contains("Secrets Manager, $0.40 a month"), "{stays}");
    session.click("[data-testid=stack-delete-confirm]").await;
    session
        .text_containing(
            "[data-testid=stack-list]",
            "Stacks in",
            Duration::from_secs(60),
        )
        .await;
    secrets
        .delete_secret()
        .secret_id(&arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    session.finish().await;
}
