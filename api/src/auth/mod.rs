//! Authentication: JWT access tokens, rotating refresh tokens, and the extractors that give
//! handlers an authenticated caller of the right role.

pub mod extract;
pub mod session;
pub mod token;

pub use extract::{
    AdminCaller, Caller, CounselorCaller, OptionalCaller, StaffCaller, SupervisorCaller, UserCaller,
};
