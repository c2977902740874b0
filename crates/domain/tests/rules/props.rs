//! Random command sequences from many members never break an invariant.
