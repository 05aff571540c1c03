//! The settings window: backend, local inference options, appearance, and
//! the runtime status (the facts `genderlens doctor` prints).

use egui::Ui;

use super::{Action, ViewState};
use crate::gui::state::{AppState, ConnectionTest, EngineStatus};
use crate::remote::RemoteOptions;
use crate::remote::address::SCHEMES;
use crate::settings::{ModelChoice, ProviderChoice, SettingsError};
use crate::settings_store::{AppSettings, BackendChoice, ThemeChoice};

pub fn show(ui: &mut Ui, state: &AppState, view: &mut ViewState, actions: &mut Vec<Action>) {
    let draft = view
        .settings_draft
        .get_or_insert_with(|| state.settings.clone());
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading("Backend");
        egui::ComboBox::from_label("Classify photos with")
            .selected_text(draft.backend.label())
            .show_ui(ui, |ui| {
                for choice in [BackendChoice::Local, BackendChoice::Remote] {
                    ui.selectable_value(&mut draft.backend, choice, choice.label());
                }
            });
        if draft.backend == BackendChoice::Remote {
            remote_settings(ui, &mut draft.remote, state, actions);
        }

        ui.add_space(6.0);
        ui.heading("Local inference");
        if draft.backend == BackendChoice::Remote {
            ui.label(egui::RichText::new("Not used while a remote server classifies.").weak());
        }
        let engine = &mut draft.engine;
        egui::Grid::new("engine_settings")
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                setting(ui, "Models", |ui| {
                    egui::ComboBox::from_id_salt("model")
                        .selected_text(model_label(engine.model))
                        .show_ui(ui, |ui| {
                            for choice in ModelChoice::ALL {
                                ui.selectable_value(&mut engine.model, choice, model_label(choice));
                            }
                        })
                        .response
                });
                setting(ui, "Execution provider", |ui| {
                    egui::ComboBox::from_id_salt("provider")
                        .selected_text(provider_label(engine.provider))
                        .show_ui(ui, |ui| {
                            for choice in [
                                ProviderChoice::Auto,
                                ProviderChoice::Tensorrt,
                                ProviderChoice::Cuda,
                                ProviderChoice::Cpu,
                            ] {
                                ui.selectable_value(
                                    &mut engine.provider,
                                    choice,
                                    provider_label(choice),
                                );
                            }
                        })
                        .response
                });
                setting(ui, "Half precision (TensorRT)", |ui| {
                    ui.checkbox(&mut engine.fp16, "fp16: faster, scores shift slightly")
                });
                setting(ui, "Batch size", |ui| {
                    ui.add(egui::DragValue::new(&mut engine.max_batch).range(1..=512))
                });
                // Typed values are kept as typed (not clamped behind the
                // user's back) and checked here, beside their field.
                let problem = engine.validate().err();
                setting(ui, "Detector size (px)", |ui| {
                    checked(
                        ui,
                        egui::DragValue::new(&mut engine.detector_size).speed(32.0),
                        problem
                            .as_ref()
                            .filter(|p| matches!(p, SettingsError::DetectorSize(_))),
                    )
                });
                setting(ui, "Minimum face (px)", |ui| {
                    ui.add(egui::DragValue::new(&mut engine.min_face_px).range(0.0..=1000.0))
                });
                setting(ui, "Detection threshold", |ui| {
                    checked(
                        ui,
                        egui::DragValue::new(&mut engine.detection_threshold).speed(0.01),
                        problem
                            .as_ref()
                            .filter(|p| matches!(p, SettingsError::DetectionThreshold(_))),
                    )
                });
                setting(ui, "Uncertain below", |ui| {
                    checked(
                        ui,
                        egui::DragValue::new(&mut engine.uncertain_below).speed(0.01),
                        problem
                            .as_ref()
                            .filter(|p| matches!(p, SettingsError::UncertainBelow(_))),
                    )
                    .on_hover_text(
                        "Faces whose label probability is below this are marked uncertain",
                    )
                });
            });

        ui.add_space(6.0);
        ui.heading("Appearance");
        ui.horizontal(|ui| {
            ui.radio_value(&mut draft.theme, ThemeChoice::System, "System");
            ui.radio_value(&mut draft.theme, ThemeChoice::Light, "Light");
            ui.radio_value(&mut draft.theme, ThemeChoice::Dark, "Dark");
        });

        if let Some(error) = &view.settings_error {
            super::coloured(ui, super::ERROR, error);
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let changed = *draft != state.settings;
            let valid = draft.engine.validate().is_ok();
            if ui
                .add_enabled(changed && valid, egui::Button::new("Apply"))
                .clicked()
            {
                actions.push(Action::ApplySettings(Box::new(draft.clone())));
            }
            if ui.button("Reset to defaults").clicked() {
                *draft = AppSettings::default();
            }
            if state.batch.active && changed {
                ui.label(egui::RichText::new("Applies after the running batch").weak());
            }
        });

        ui.separator();
        runtime_status(ui, state, actions);
    });
}

fn remote_settings(
    ui: &mut Ui,
    remote: &mut RemoteOptions,
    state: &AppState,
    actions: &mut Vec<Action>,
) {
    super::coloured(
        ui,
        super::WARNING,
        "Photos are sent to this server to be classified.",
    );
    egui::Grid::new("remote_settings")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            setting(ui, "Server URL", |ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut remote.url)
                        .hint_text("triton-grpc://host:8001")
                        .desired_width(420.0),
                )
                .on_hover_text(format!(
                    "One of {SCHEMES}. Several Triton gRPC servers, separated by commas, \
                     share the photos; one that stops answering is left out until it is back."
                ))
            });
            setting(ui, "Model", |ui| ui.text_edit_singleline(&mut remote.model));
            setting(ui, "Model version", |ui| {
                ui.add(egui::TextEdit::singleline(&mut remote.model_version).hint_text("latest"))
            });
            setting(ui, "Timeout (s)", |ui| {
                ui.add(
                    egui::DragValue::new(&mut remote.timeout_secs)
                        .range(0.5..=600.0)
                        .speed(0.5),
                )
            });
            setting(ui, "Requests in flight", |ui| {
                ui.add(egui::DragValue::new(&mut remote.max_in_flight).range(1..=256))
            });
            setting(ui, "Retries", |ui| {
                ui.add(egui::DragValue::new(&mut remote.retries).range(0..=10))
                    .on_hover_text("After a connection error or a 503; never after a refusal (4xx)")
            });
            setting(ui, "Bearer token", |ui| {
                let mut token = remote.token.clone().unwrap_or_default();
                let response = ui.add(
                    egui::TextEdit::singleline(&mut token)
                        .password(true)
                        .hint_text("none"),
                );
                if response.changed() {
                    remote.token = Some(token).filter(|t| !t.is_empty());
                }
                response.on_hover_text("Saved in a file only you can read, not in the settings")
            });
        });
    ui.horizontal(|ui| {
        let running = state.connection == Some(ConnectionTest::Running);
        if ui
            .add_enabled(!running, egui::Button::new("Test connection"))
            .on_hover_text("Checks that the server is ready, the model is ready, and it takes IMAGE_BYTES and gives OUTPUT_JSON")
            .clicked()
        {
            actions.push(Action::TestConnection(Box::new(remote.clone())));
        }
        if running {
            ui.spinner();
        }
    });
    // A result is about the address it tested: once the address is edited,
    // it no longer speaks for what is in the field.
    if let Some(ConnectionTest::Done { url, outcome }) = &state.connection
        && *url == remote.url
    {
        match outcome {
            Ok(checks) => {
                for check in checks {
                    let (mark, colour) = if check.ok {
                        ("Passed", super::OK)
                    } else {
                        ("Failed", super::ERROR)
                    };
                    super::coloured(
                        ui,
                        colour,
                        format!("{mark}: {}: {}", check.name, check.message),
                    );
                }
            }
            Err(problem) => {
                super::coloured(ui, super::ERROR, format!("Failed: {url}: {problem}"));
            }
        }
    }
}

/// One labelled row of the settings grid; the label names the control for
/// screen readers too.
/// A number field with its problem, when it has one, beside it.
fn checked(
    ui: &mut Ui,
    field: egui::DragValue<'_>,
    problem: Option<&SettingsError>,
) -> egui::Response {
    ui.horizontal(|ui| {
        let response = ui.add(field);
        if let Some(problem) = problem {
            super::coloured(ui, super::ERROR, problem.to_string());
        }
        response
    })
    .inner
}

fn setting(ui: &mut Ui, label: &str, control: impl FnOnce(&mut Ui) -> egui::Response) {
    let label = ui.label(label);
    control(ui).labelled_by(label.id);
    ui.end_row();
}

fn model_label(choice: ModelChoice) -> &'static str {
    match choice {
        ModelChoice::Ensemble => "Ensemble: dlib and face-api together (recommended)",
        ModelChoice::Dlib => "dlib alone (gender-v1, age-v1)",
        ModelChoice::Faceapi => "face-api alone (AgeGenderNet)",
    }
}

fn provider_label(choice: ProviderChoice) -> &'static str {
    match choice {
        ProviderChoice::Auto => "Automatic (TensorRT, then CUDA, then CPU)",
        ProviderChoice::Tensorrt => "TensorRT only",
        ProviderChoice::Cuda => "CUDA only",
        ProviderChoice::Cpu => "CPU only",
    }
}

fn runtime_status(ui: &mut Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.heading("Runtime");
    match &state.engine {
        EngineStatus::NotLoaded => ui.label("Not loaded yet: it loads with the first batch."),
        EngineStatus::Loading(step) => ui.label(format!("Loading: {step}")),
        EngineStatus::Ready(runtime) => wrapped(ui, runtime),
        EngineStatus::Unavailable(error) => super::coloured(ui, super::ERROR, error),
    };
    for report in state.sessions.values() {
        wrapped(ui, format!("{}: {}", report.model, report.assignment));
        for fallback in &report.fallbacks {
            wrapped(
                ui,
                egui::RichText::new(format!(
                    "    {} not used: {}",
                    fallback.provider,
                    fallback.reason.lines().next().unwrap_or_default()
                ))
                .small()
                .weak(),
            );
        }
    }
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!state.diagnosing, egui::Button::new("Check runtime"))
            .on_hover_text("Loads each model the way a batch would and reports where it runs")
            .clicked()
        {
            actions.push(Action::CheckRuntime);
        }
        if state.diagnosing {
            ui.spinner();
        }
    });
    let Some(report) = &state.diagnosis else {
        return;
    };
    egui::Grid::new("diagnosis").num_columns(2).show(ui, |ui| {
        match &report.runtime {
            Ok(rt) => {
                ui.label("ONNX Runtime");
                wrapped(ui, format!("{} ({})", rt.version, rt.found_via));
                ui.end_row();
                ui.label("Library");
                wrapped(ui, rt.path.display().to_string());
                ui.end_row();
                ui.label("Providers");
                wrapped(ui, rt.compiled_providers.join(", "));
                ui.end_row();
            }
            Err(e) => {
                ui.label("ONNX Runtime");
                super::coloured(ui, super::ERROR, e);
                ui.end_row();
            }
        }
        match &report.models_dir {
            Ok(dir) => {
                ui.label("Models");
                wrapped(ui, dir.display().to_string());
            }
            Err(e) => {
                ui.label("Models");
                super::coloured(ui, super::ERROR, e);
            }
        }
        ui.end_row();
        for session in &report.sessions {
            match session {
                Ok(s) => {
                    ui.label(&s.model);
                    wrapped(ui, s.assignment.to_string());
                }
                Err(e) => {
                    ui.label("Model");
                    super::coloured(ui, super::ERROR, e);
                }
            }
            ui.end_row();
        }
        let missing: Vec<_> = report
            .gpu_libraries
            .iter()
            .filter(|l| l.missing.is_some())
            .map(|l| format!("{} ({})", l.file, l.group))
            .collect();
        if !missing.is_empty() {
            ui.label("GPU libraries missing");
            wrapped(ui, missing.join(", "));
            ui.end_row();
        }
    });
}

/// A long line (a library path, a list of missing libraries) wraps within
/// the window instead of widening it past the screen.
fn wrapped(ui: &mut Ui, text: impl Into<egui::WidgetText>) -> egui::Response {
    ui.add(egui::Label::new(text).wrap())
}
