mod archives;
mod bad_input;
mod derived;
mod follow;
mod matcher;
mod pastes;
mod real;
mod variants;
