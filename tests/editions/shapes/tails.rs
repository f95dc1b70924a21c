//! The table: each module is one body tail, stamped into every kind of function by
//! `shape_table!` (see table.rs for the kinds and their labels). Cells whose code does not
//! compile today are in pending.rs, written the same way.

/// `?` material: `Err(&str)`, converted by `?` into the function's `String`.
pub fn nonzero(n: u32) -> Result<u32, &'static str> {
    if n == 0 {
        Err("zero")
    } else {
        Ok(n)
    }
}

/// A plain value.
mod value {
    shape_table! {
        kinds: [sync, async],
        fn (n) -> [u32],
        inner: {},
        body: { n * 2 },
        calls: [(1, Ok(2)), (5, Ok(10))],
        counts: [2, 0, 0, 0],
    }
}

/// `?` on the Ok and the Err path, with a `From` conversion.
mod question_mark {
    shape_table! {
        kinds: [sync, async],
        fn (n) -> [Result<u32, String>],
        inner: {},
        body: {
            let v = super::nonzero(n)?;
            Ok(v + 1)
        },
        calls: [(1, Ok(Ok(2))), (0, Ok(Err("zero".to_owned()))), (2, Ok(Ok(3)))],
        counts: [2, 1, 0, 0],
    }
}

/// `?` on an `Option`: `None` is not an error.
mod question_mark_option {
    shape_table! {
        kinds: [sync, async],
        fn (n) -> [Option<u32>],
        inner: {},
        body: {
            let v = n.checked_sub(1)?;
            Some(v)
        },
        calls: [(0, Ok(None)), (2, Ok(Some(1)))],
        counts: [2, 0, 0, 0],
    }
}

/// Early `return` of an `Err` and of an `Ok`, then the tail.
mod early_return {
    shape_table! {
        kinds: [sync, async],
        fn (n) -> [Result<u32, String>],
        inner: {},
        body: {
            if n == 0 {
                return Err("zero".to_owned());
            }
            if n == 1 {
                return Ok(100);
            }
            Ok(n)
        },
        calls: [(0, Ok(Err("zero".to_owned()))), (1, Ok(Ok(100))), (2, Ok(Ok(2)))],
        counts: [2, 1, 0, 0],
    }
}

/// A worker loop in a unit fn, left by `break`.
mod worker_loop_break {
    shape_table! {
        kinds: [sync, async],
        fn (n),
        inner: {},
        body: {
            let mut left = n;
            loop {
                if left == 0 {
                    break;
                }
                left -= 1;
            }
        },
        calls: [(3, Ok(())), (0, Ok(()))],
        counts: [2, 0, 0, 0],
    }
}

/// `loop { … break value }` as the tail of a value fn.
mod loop_break_value {
    shape_table! {
        kinds: [sync, async],
        fn (n) -> [u32],
        inner: {},
        body: {
            let mut i = 0;
            loop {
                i += 1;
                if i * i >= n {
                    break i;
                }
            }
        },
        calls: [(10, Ok(4)), (1, Ok(1))],
        counts: [2, 0, 0, 0],
    }
}

/// `loop { … return value }`: the tail has type `!` in a value fn.
mod loop_return_value {
    shape_table! {
        kinds: [sync, async],
        fn (n) -> [u32],
        inner: {},
        body: {
            let mut i = 0;
            loop {
                i += 1;
                if i >= n {
                    return i * 10;
                }
            }
        },
        calls: [(3, Ok(30)), (0, Ok(10))],
        counts: [2, 0, 0, 0],
    }
}

/// A value fn whose whole body is `panic!`.
mod panic_value {
    shape_table! {
        kinds: [sync, async],
        fn (n) -> [u32],
        inner: {},
        body: { panic!("value boom {}", n) },
        calls: [(2, Err("value boom 2"))],
        counts: [0, 0, 1, 0],
    }
}

/// A value fn that panics on one path and returns on the other.
mod panic_on_a_path {
    shape_table! {
        kinds: [sync, async],
        fn (n) -> [u32],
        inner: {},
        body: {
            assert!(n != 0, "zero boom");
            n
        },
        calls: [(0, Err("zero boom")), (4, Ok(4))],
        counts: [1, 0, 1, 0],
    }
}

/// A value fn whose body is `todo!()`.
mod todo_value {
    shape_table! {
        kinds: [sync, async],
        fn (_n) -> [u32],
        inner: {},
        body: { todo!() },
        calls: [(1, Err("not yet implemented"))],
        counts: [0, 0, 1, 0],
    }
}

/// A value fn whose body is `unimplemented!()`.
mod unimplemented_value {
    shape_table! {
        kinds: [sync, async],
        fn (_n) -> [u32],
        inner: {},
        body: { unimplemented!() },
        calls: [(1, Err("not implemented"))],
        counts: [0, 0, 1, 0],
    }
}

/// A value fn whose body is `std::process::exit`: run in a child process.
mod exit_value {
    shape_table! {
        kinds: [sync, async],
        fn (n) -> [u32],
        inner: {},
        body: { std::process::exit(if n == 7 { 7 } else { 1 }) },
        exits: 7,
    }
}

/// A labelled block as the tail, left early by `break 'a value`.
mod labelled_block {
    shape_table! {
        kinds: [sync, async],
        fn (n) -> [u32],
        inner: {},
        body: {
            'a: {
                if n == 0 {
                    break 'a 1;
                }
                n * 2
            }
        },
        calls: [(0, Ok(1)), (3, Ok(6))],
        counts: [2, 0, 0, 0],
    }
}

/// A worker loop in a unit fn, left by `return`: the loop has type `!`.
mod worker_loop_return {
    shape_table! {
        kinds: [sync, async],
        fn (n),
        inner: {},
        body: {
            let mut left = n;
            loop {
                if left == 0 {
                    return;
                }
                left -= 1;
            }
        },
        calls: [(3, Ok(())), (0, Ok(()))],
        counts: [2, 0, 0, 0],
    }
}

/// A unit fn whose whole body is `panic!`.
mod panic_unit {
    shape_table! {
        kinds: [sync, async],
        fn (n),
        inner: {},
        body: { panic!("unit boom {}", n) },
        calls: [(1, Err("unit boom 1"))],
        counts: [0, 0, 1, 0],
    }
}

/// A unit fn whose body is `todo!()`.
mod todo_unit {
    shape_table! {
        kinds: [sync, async],
        fn (_n),
        inner: {},
        body: { todo!() },
        calls: [(1, Err("not yet implemented"))],
        counts: [0, 0, 1, 0],
    }
}

/// A unit fn whose body is `unimplemented!()`.
mod unimplemented_unit {
    shape_table! {
        kinds: [sync, async],
        fn (_n),
        inner: {},
        body: { unimplemented!() },
        calls: [(1, Err("not implemented"))],
        counts: [0, 0, 1, 0],
    }
}

/// A unit fn whose body is `std::process::exit`: run in a child process.
mod exit_unit {
    shape_table! {
        kinds: [sync, async],
        fn (n),
        inner: {},
        body: { std::process::exit(if n == 7 { 7 } else { 1 }) },
        exits: 7,
    }
}

/// Inner attributes and an inner doc comment opening the body: still valid, still applied
/// (clippy's `identity_op` would fire on `n * 1` otherwise).
mod inner_attributes {
    shape_table! {
        kinds: [sync, async],
        fn (n) -> [u32],
        inner: {
            #![allow(clippy::identity_op)]
            //! An inner doc comment of the body.
        },
        body: { n * 1 },
        calls: [(3, Ok(3))],
        counts: [1, 0, 0, 0],
    }
}

/// The same in a unit fn.
mod inner_attributes_unit {
    shape_table! {
        kinds: [sync, async],
        fn (n),
        inner: {
            #![allow(clippy::identity_op)]
            //! An inner doc comment of the body.
        },
        body: { assert_eq!(n * 1, n) },
        calls: [(3, Ok(()))],
        counts: [1, 0, 0, 0],
    }
}
