//! The Tauri commands, one module per domain. Each converts its arguments, calls the SDK,
//! turns a failure into the SDK's flat `BoundaryError {kind, message}` with `?`, and
//! returns the SDK's serde record as it is.

pub mod attendees;
pub mod boot;
pub mod doors;
pub mod events;
pub mod sales;
pub mod scanner;
pub mod session;

use tauri::Wry;
use tauri::ipc::Invoke;

/// What a command returns to the window: the SDK's record or its flat error.
pub type Answer<T> = Result<T, guichet_sdk::BoundaryError>;

/// The organizer console's commands.
pub fn organizer_handler() -> impl Fn(Invoke<Wry>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        boot::first_paint,
        session::log_in,
        session::sso_available,
        session::sign_in_with_provider,
        session::log_out,
        session::account,
        events::my_events,
        events::create_event,
        events::update_event,
        events::add_ticket_type,
        events::update_ticket_type,
        events::publish_event,
        events::cancel_event,
        sales::sales_report,
        sales::watch_sales,
        attendees::attendees,
        attendees::refund,
        doors::check_in_lists,
        doors::create_check_in_list,
        doors::pair_scanner,
        doors::scanner_devices,
        doors::revoke_scanner,
        doors::duplicate_alerts,
    ]
}

/// The door scanner's commands.
pub fn door_handler() -> impl Fn(Invoke<Wry>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        boot::first_paint,
        scanner::pair,
        scanner::choose_gate,
        scanner::scan,
        scanner::scan_image,
        scanner::status,
        scanner::sync_now,
    ]
}
