//! The Slipway desktop app: assembles Tauri (state, plugins, the typed command list) around
//! the engine. Commands live in `commands/`, one file per feature; nothing here decides.

mod commands;
mod error;
mod instance;
mod shutdown;
mod state;
mod window_state;

pub use error::IpcError;

use slipway_core::host::HostEnv;
use slipway_core::jobs::JobRegistry;
use tauri::Manager;

/// The one list of commands, for any runtime: the app uses Wry, the IPC tests MockRuntime.
/// (A macro, because `collect_commands!` cannot be used inside a generic function.)
macro_rules! specta_builder {
    ($runtime:ty) => {
        // One TypeScript type per Rust type (no _Serialize/_Deserialize split): every
        // type here has the same shape in both directions.
        tauri_specta::Builder::<$runtime>::new()
            .disable_serde_phases()
            .commands(tauri_specta::collect_commands![
                $crate::commands::app::app_info,
                $crate::commands::app::export_support_bundle,
                $crate::commands::environment::check_environment,
                $crate::commands::jobs::cancel_job,
                $crate::commands::project::open_project,
                $crate::commands::project::open_sample,
                $crate::commands::project::validate_project,
                $crate::commands::project::save_project,
                $crate::commands::project::recent_projects,
                $crate::commands::project::forget_recent_project,
                $crate::commands::project::task_sizes,
                $crate::commands::project::check_project,
                $crate::commands::image::image_project_defaults,
                $crate::commands::image::create_image_project,
                $crate::commands::build::build_project,
                $crate::commands::preview::start_preview,
                $crate::commands::preview::preview_status,
                $crate::commands::preview::stop_preview,
                $crate::commands::preview::running_previews,
                $crate::commands::update::check_update,
                $crate::commands::update::install_update,
                $crate::commands::preview::watch_preview,
                $crate::commands::releases::local_releases,
                $crate::commands::releases::rollback_local,
                $crate::commands::aws::aws_profiles,
                $crate::commands::aws::add_access_key_profile,
                $crate::commands::aws::connect_project_aws,
                $crate::commands::aws::project_connects_again,
                $crate::commands::aws::reconnect_project_aws,
                $crate::commands::aws::app_settings,
                $crate::commands::aws::save_app_settings,
                $crate::commands::aws::find_my_ip,
                $crate::commands::sso::sso_sign_in,
                $crate::commands::sso::save_sso_profile,
                $crate::commands::sso::sso_sign_in_for_profile,
                $crate::commands::sso::open_in_browser,
                $crate::commands::secrets::app_secrets,
                $crate::commands::secrets::create_app_secret,
                $crate::commands::secrets::import_app_secrets,
                $crate::commands::setup::plan_setup,
                $crate::commands::setup::apply_setup,
                $crate::commands::setup::plan_teardown,
                $crate::commands::setup::apply_teardown,
                $crate::commands::deploy::deploy,
                $crate::commands::deploy::app_status,
                $crate::commands::deploy::stop_app,
                $crate::commands::deploy::stop_task,
                $crate::commands::deploy::scale_app,
                $crate::commands::deploy::unfinished_deploys,
                $crate::commands::deploy::settle_deploy,
                $crate::commands::cost::project_cost,
                $crate::commands::cost::estimate_cost,
                $crate::commands::cost::cost_settings,
                $crate::commands::cost::save_cost_settings,
                $crate::commands::cost::watch_costs,
                $crate::commands::releases::aws_releases,
                $crate::commands::releases::deregister_plan,
                $crate::commands::releases::deregister_revisions,
                $crate::commands::logs::app_logs,
                $crate::commands::logs::follow_logs,
                $crate::commands::logs::save_logs,
                $crate::commands::deploy::task_definition_changes,
                $crate::commands::stacks::connect_account,
                $crate::commands::stacks::list_stacks,
                $crate::commands::stacks::open_template,
                $crate::commands::stacks::check_stack_values,
                $crate::commands::stacks::stack_choices,
                $crate::commands::stacks::saved_stack_values,
                $crate::commands::stacks::current_stack_values,
                $crate::commands::stacks::review_stack,
                $crate::commands::stacks::apply_stack,
                $crate::commands::stacks::discard_stack_review,
                $crate::commands::stacks::stack_outputs,
                $crate::commands::stacks::stack_events,
                $crate::commands::stacks::review_stack_delete,
                $crate::commands::stacks::delete_stack,
                $crate::commands::stacks::account_secrets,
                $crate::commands::stacks::create_account_secret,
                $crate::commands::services::list_services,
                $crate::commands::services::describe_service,
                $crate::commands::services::scale_service,
                $crate::commands::services::redeploy_service,
                $crate::commands::services::roll_back_service,
                $crate::commands::services::run_service_task,
                $crate::commands::services::service_logs,
            ])
    };
}

/// The builder `run()` uses; the bindings test exports it to `ui/src/lib/ipc/bindings.ts`.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    specta_builder!(tauri::Wry)
}

pub fn run() {
    let host = HostEnv::from_process();
    if let Err(e) = slipway_aws::support::log::init(&host, "desktop", true) {
        eprintln!("Slipway will run without its log file: {e}");
    }
    let data_dir = slipway_core::app::data_dir(&host);
    let claim = match instance::claim(&data_dir) {
        Ok(instance::Instance::First(claim)) => Some(claim),
        Ok(instance::Instance::Second { told }) => {
            tracing::info!(
                told,
                "Slipway is already open on this data folder: handing over to it"
            );
            eprintln!("Slipway is already open; its window was brought to the front.");
            return;
        }
        Err(e) => {
            tracing::warn!("could not check for another open Slipway ({e}); opening anyway");
            None
        }
    };
    let builder = specta_builder();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(state::Desk(slipway_app::Desk::new(host.clone())))
        .manage(state::Host(host))
        .manage(state::Jobs(JobRegistry::default()))
        .manage(state::Projects::default())
        .invoke_handler(builder.invoke_handler())
        .manage(window_state::Kept::new(&data_dir))
        .manage(instance::Held::default())
        .on_window_event(|window, event| {
            window_state::on_window_event(window, event);
            shutdown::on_window_event(window, event);
        })
        .setup(move |app| {
            builder.mount_events(app);
            shutdown::on_terminate(app.handle().clone());
            app.manage(commands::update::UpdateService::new(app.handle().clone()));
            if let Some(window) = app.get_webview_window("main") {
                window_state::restore(&window, &data_dir);
            }
            if let Some(claim) = claim {
                let handle = app.handle().clone();
                claim.on_later_launch(&app.state::<instance::Held>(), move || {
                    tracing::info!("a second launch: bringing the window to the front");
                    if let Some(window) = handle.get_webview_window("main") {
                        let _ = window.unminimize();
                        let _ = window.show();
                        let _ = window.set_focus();
                    }
                });
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the Slipway window could not start");
    app.run(|app, event| {
        if let tauri::RunEvent::Exit = event {
            window_state::save(app);
        }
    });
}

#[cfg(test)]
mod refusals_fixture;
#[cfg(test)]
mod tests;
