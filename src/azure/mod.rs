//! Azure facts that several layers share: timestamps, resource ids, Key Vault URLs, roles.

pub mod ids;
pub mod keyvault_url;
pub mod roles;
pub mod time;
