//! Tools in modules: paths in `toolset!`, visibilities, imports, and tools
//! declared inside a function.

use toolrunner::{tool, toolset};

mod math {
    pub mod ints {
        use toolrunner::tool;

        /// Add two integers.
        #[tool]
        pub fn add(a: i64, b: i64) -> i64 {
            a + b
        }

        /// Negate an integer.
        #[tool]
        pub(crate) fn neg(a: i64) -> i64 {
            -a
        }

        /// Halve an integer.
        #[tool]
        pub(in crate::math) fn half(a: i64) -> i64 {
            a / 2
        }

        /// Private to this module.
        #[tool]
        fn secret() -> u8 {
            42
        }

        pub fn set() -> toolrunner::Toolset {
            toolrunner::toolset![secret, self::half]
        }
    }

    pub fn halves() -> toolrunner::Toolset {
        toolrunner::toolset![ints::half]
    }
}

// One `use` brings both the function and the tool.
use math::ints::neg;

fn main() {
    /// Declared in a function.
    #[tool]
    fn local(x: u8) -> u8 {
        x
    }

    assert_eq!(neg(1), -1);
    assert_eq!(math::ints::add(1, 2), 3);
    let tools = toolset![math::ints::add, neg, local];
    let _ = tools;
    let _ = math::ints::set();
    let _ = math::halves();
    let _ = toolset![];
}
