//! The typed DSL: value types, values, and the table of primitives programs are made of.
//!
//! Every primitive has a name, argument types, a result type, a one-line description and an
//! implementation over [`Value`]s (a thin wrapper of a function in [`crate::prims`]). A
//! primitive never panics: an argument of the wrong variant reads as that type's empty value,
//! and every result is valid (grids ≤ 30 × 30, colours 0–9). The table is in the spirit of
//! Hodel's ARC DSL (transformations, properties, object operations, set and higher-order
//! helpers: `argmax`/`argmin`/`filter_eq` take a key function, `map_grids` a grid function) and
//! of icecuber's image transforms (rigid maps, crops, colour filters, splits with selectors,
//! symmetry completion, smearing, gravity).
//!
//! Function-typed arguments ([`Type::ObjKey`], [`Type::GridKey`], [`Type::GridFn`]) are
//! literals that name a key or a primitive, so programs stay first-order and straight-line.

use std::fmt;
use std::sync::{Arc, LazyLock};

use crate::grid::Grid;
use crate::object::Object;
use crate::prims::{self, ColourMap, GridKey, LocalRule, ObjKey};

/// The type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// A grid.
    Grid,
    /// A list of grids.
    Grids,
    /// An object.
    Obj,
    /// A list of objects in canonical order.
    Objs,
    /// An integer.
    Int,
    /// A colour 0–9.
    Colour,
    /// A boolean.
    Bool,
    /// A colour substitution.
    Map,
    /// A key function on objects (a literal).
    ObjKey,
    /// A key function on grids (a literal).
    GridKey,
    /// A grid-to-grid primitive (a literal naming it).
    GridFn,
    /// A learned cell-wise rule (a literal).
    Rule,
}

impl Type {
    /// Whether values of this type are written as literals in programs (never computed).
    pub fn is_literal(self) -> bool {
        matches!(
            self,
            Self::Int
                | Self::Colour
                | Self::Bool
                | Self::Map
                | Self::ObjKey
                | Self::GridKey
                | Self::GridFn
                | Self::Rule
        )
    }
}

/// A value of the DSL. Cloning is cheap: grids and lists share their buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A grid.
    Grid(Grid),
    /// A list of grids.
    Grids(Arc<[Grid]>),
    /// An object.
    Obj(Object),
    /// A list of objects.
    Objs(Arc<[Object]>),
    /// An integer.
    Int(i32),
    /// A colour.
    Colour(u8),
    /// A boolean.
    Bool(bool),
    /// A colour substitution.
    Map(ColourMap),
    /// An object key function.
    ObjKey(ObjKey),
    /// A grid key function.
    GridKey(GridKey),
    /// A grid-to-grid primitive.
    GridFn(Prim),
    /// A learned cell-wise rule.
    Rule(Arc<LocalRule>),
}

static EMPTY_GRID: LazyLock<Grid> = LazyLock::new(Grid::empty);
static EMPTY_OBJ: LazyLock<Object> = LazyLock::new(Object::empty);

impl Value {
    /// The value's type.
    pub fn ty(&self) -> Type {
        match self {
            Self::Grid(_) => Type::Grid,
            Self::Grids(_) => Type::Grids,
            Self::Obj(_) => Type::Obj,
            Self::Objs(_) => Type::Objs,
            Self::Int(_) => Type::Int,
            Self::Colour(_) => Type::Colour,
            Self::Bool(_) => Type::Bool,
            Self::Map(_) => Type::Map,
            Self::ObjKey(_) => Type::ObjKey,
            Self::GridKey(_) => Type::GridKey,
            Self::GridFn(_) => Type::GridFn,
            Self::Rule(_) => Type::Rule,
        }
    }

    /// The empty value of type `ty` (what a primitive returns when it has nothing to return).
    pub fn empty(ty: Type) -> Self {
        match ty {
            Type::Grid => Self::Grid(Grid::empty()),
            Type::Grids => Self::Grids(Arc::from(Vec::new())),
            Type::Obj => Self::Obj(Object::empty()),
            Type::Objs => Self::Objs(Arc::from(Vec::new())),
            Type::Int => Self::Int(0),
            Type::Colour => Self::Colour(0),
            Type::Bool => Self::Bool(false),
            Type::Map => Self::Map(ColourMap::IDENTITY),
            Type::ObjKey => Self::ObjKey(ObjKey::Size),
            Type::GridKey => Self::GridKey(GridKey::Area),
            Type::GridFn => Self::GridFn(Prim::IDENTITY),
            Type::Rule => Self::Rule(Arc::new(LocalRule {
                kind: 0,
                table: Vec::new(),
            })),
        }
    }

    /// The grid, or the empty grid for another variant.
    pub fn grid(&self) -> &Grid {
        match self {
            Self::Grid(g) => g,
            _ => &EMPTY_GRID,
        }
    }

    /// The grids, or none.
    pub fn grids(&self) -> &[Grid] {
        match self {
            Self::Grids(g) => g,
            _ => &[],
        }
    }

    /// The object, or the empty object.
    pub fn obj(&self) -> &Object {
        match self {
            Self::Obj(o) => o,
            _ => &EMPTY_OBJ,
        }
    }

    /// The objects, or none.
    pub fn objs(&self) -> &[Object] {
        match self {
            Self::Objs(o) => o,
            _ => &[],
        }
    }

    /// The integer (a colour reads as its number), or 0.
    pub fn int(&self) -> i32 {
        match *self {
            Self::Int(i) => i,
            Self::Colour(c) => i32::from(c),
            _ => 0,
        }
    }

    /// The colour (an integer 0–9 reads as a colour), or 0.
    pub fn colour(&self) -> u8 {
        match *self {
            Self::Colour(c) => c,
            Self::Int(i) if (0..=9).contains(&i) => i as u8,
            _ => 0,
        }
    }

    /// The boolean, or false.
    pub fn bool(&self) -> bool {
        matches!(self, Self::Bool(true))
    }

    /// A 64-bit hash of the value (grids and objects reuse their cached hashes).
    pub fn hash64(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut s = rustc_hash::FxHasher::default();
        std::mem::discriminant(self).hash(&mut s);
        match self {
            Self::Grid(g) => s.write_u64(g.hash64()),
            Self::Grids(gs) => {
                s.write_usize(gs.len());
                for g in gs.iter() {
                    s.write_u64(g.hash64());
                }
            }
            Self::Obj(o) => s.write_u64(o.hash64()),
            Self::Objs(os) => {
                s.write_usize(os.len());
                for o in os.iter() {
                    s.write_u64(o.hash64());
                }
            }
            Self::Int(i) => s.write_i32(*i),
            Self::Colour(c) => s.write_u8(*c),
            Self::Bool(b) => s.write_u8(u8::from(*b)),
            Self::Map(m) => m.hash(&mut s),
            Self::ObjKey(k) => k.hash(&mut s),
            Self::GridKey(k) => k.hash(&mut s),
            Self::GridFn(p) => p.hash(&mut s),
            Self::Rule(r) => r.hash(&mut s),
        }
        s.finish()
    }

    /// Approximate bytes the value holds (for the search's memory bound).
    pub fn bytes(&self) -> usize {
        48 + match self {
            Self::Grid(g) => g.area(),
            Self::Grids(gs) => gs.iter().map(|g| 40 + g.area()).sum(),
            Self::Obj(o) => 3 * o.size(),
            Self::Objs(os) => os.iter().map(|o| 40 + 3 * o.size()).sum(),
            _ => 0,
        }
    }

    /// The literal's text in programs, for literal types; `None` for computed types.
    pub fn literal_text(&self) -> Option<String> {
        Some(match self {
            Self::Int(i) => i.to_string(),
            Self::Colour(c) => c.to_string(),
            Self::Bool(b) => b.to_string(),
            Self::Map(m) => m.text(),
            Self::ObjKey(k) => k.name().to_string(),
            Self::GridKey(k) => k.name().to_string(),
            Self::GridFn(p) => p.name().to_string(),
            Self::Rule(r) => r.text(),
            _ => return None,
        })
    }

    /// Parses a literal of type `ty`.
    pub fn parse_literal(ty: Type, text: &str) -> Option<Self> {
        let t = text.trim();
        Some(match ty {
            Type::Int => Self::Int(t.parse::<i32>().ok().filter(|v| v.abs() <= 30)?),
            Type::Colour => Self::Colour(t.parse::<u8>().ok().filter(|&c| c <= 9)?),
            Type::Bool => Self::Bool(t.parse().ok()?),
            Type::Map => Self::Map(ColourMap::parse(t)?),
            Type::ObjKey => Self::ObjKey(ObjKey::from_name(t)?),
            Type::GridKey => Self::GridKey(GridKey::from_name(t)?),
            Type::GridFn => {
                let p = Prim::by_name(t)?;
                (p.def().args == [Type::Grid] && p.def().ret == Type::Grid).then_some(())?;
                Self::GridFn(p)
            }
            Type::Rule => Self::Rule(Arc::new(LocalRule::parse(t)?)),
            _ => return None,
        })
    }
}

/// One primitive: name, signature, description, implementation.
#[derive(Clone, Copy)]
pub struct PrimDef {
    /// Name in program text.
    pub name: &'static str,
    /// Argument types.
    pub args: &'static [Type],
    /// Result type.
    pub ret: Type,
    /// What it does.
    pub doc: &'static str,
    /// The implementation; arguments of the wrong variant read as empty values.
    pub f: fn(&[&Value]) -> Value,
}

impl fmt::Debug for PrimDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:?} -> {:?}", self.name, self.args, self.ret)
    }
}

/// A primitive, by its index in [`PRIMS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prim(pub u16);

impl Prim {
    /// The identity on grids (the first entry of the table).
    pub const IDENTITY: Self = Self(0);

    /// The primitive's definition.
    pub fn def(self) -> &'static PrimDef {
        &PRIMS[usize::from(self.0).min(PRIMS.len() - 1)]
    }

    /// The primitive's name.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The primitive named `name`.
    pub fn by_name(name: &str) -> Option<Self> {
        PRIMS
            .iter()
            .position(|p| p.name == name)
            .map(|i| Self(i as u16))
    }

    /// Every primitive.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..PRIMS.len()).map(|i| Self(i as u16))
    }

    /// Applies the primitive; wrong argument counts give the empty result.
    pub fn apply(self, args: &[&Value]) -> Value {
        let d = self.def();
        if args.len() != d.args.len() {
            return Value::empty(d.ret);
        }
        (d.f)(args)
    }
}

fn grids(v: Vec<Grid>) -> Value {
    Value::Grids(Arc::from(v))
}

fn objs(v: Vec<Object>) -> Value {
    Value::Objs(Arc::from(v))
}

fn grid_fn(v: &Value) -> Prim {
    match v {
        Value::GridFn(p) if p.def().args == [Type::Grid] && p.def().ret == Type::Grid => *p,
        _ => Prim::IDENTITY,
    }
}

fn obj_key(v: &Value) -> ObjKey {
    match v {
        Value::ObjKey(k) => *k,
        _ => ObjKey::Size,
    }
}

fn grid_key(v: &Value) -> GridKey {
    match v {
        Value::GridKey(k) => *k,
        _ => GridKey::Area,
    }
}

use Type as T;
use Value as V;

macro_rules! prim {
    ($name:literal, [$($t:ident),*] -> $r:ident, $doc:literal, $f:expr) => {
        PrimDef { name: $name, args: &[$(T::$t),*], ret: T::$r, doc: $doc, f: $f }
    };
}

/// The primitive table.
pub static PRIMS: &[PrimDef] = &[
    prim!("identity", [Grid] -> Grid, "the grid unchanged", |a| V::Grid(a[0].grid().clone())),
    // Geometry.
    prim!("rot90", [Grid] -> Grid, "quarter turn clockwise", |a| V::Grid(prims::rot90(a[0].grid()))),
    prim!("rot180", [Grid] -> Grid, "half turn", |a| V::Grid(prims::rot180(a[0].grid()))),
    prim!("rot270", [Grid] -> Grid, "quarter turn anticlockwise", |a| V::Grid(prims::rot270(a[0].grid()))),
    prim!("flip_h", [Grid] -> Grid, "mirror left to right", |a| V::Grid(prims::flip_h(a[0].grid()))),
    prim!("flip_v", [Grid] -> Grid, "mirror top to bottom", |a| V::Grid(prims::flip_v(a[0].grid()))),
    prim!("transpose", [Grid] -> Grid, "mirror along the main diagonal", |a| V::Grid(prims::transpose(a[0].grid()))),
    prim!("antitranspose", [Grid] -> Grid, "mirror along the anti-diagonal", |a| V::Grid(prims::antitranspose(a[0].grid()))),
    // Crops.
    prim!("trim", [Grid] -> Grid, "crop to the bounding box of non-background cells", |a| V::Grid(prims::trim(a[0].grid()))),
    prim!("crop_nonzero", [Grid] -> Grid, "crop to the bounding box of non-zero cells", |a| V::Grid(prims::crop_nonzero(a[0].grid()))),
    prim!("crop_colour", [Grid, Colour] -> Grid, "crop to the bounding box of one colour", |a| V::Grid(prims::crop_colour(a[0].grid(), a[1].colour()))),
    prim!("compress", [Grid] -> Grid, "remove single-coloured rows and columns", |a| V::Grid(prims::compress(a[0].grid()))),
    prim!("top_half", [Grid] -> Grid, "the top half", |a| V::Grid(prims::top_half(a[0].grid()))),
    prim!("bottom_half", [Grid] -> Grid, "the bottom half", |a| V::Grid(prims::bottom_half(a[0].grid()))),
    prim!("left_half", [Grid] -> Grid, "the left half", |a| V::Grid(prims::left_half(a[0].grid()))),
    prim!("right_half", [Grid] -> Grid, "the right half", |a| V::Grid(prims::right_half(a[0].grid()))),
    prim!("shrink", [Grid] -> Grid, "remove the one-cell frame", |a| V::Grid(prims::shrink(a[0].grid()))),
    prim!("pad", [Grid, Colour] -> Grid, "add a one-cell frame of a colour", |a| V::Grid(prims::pad(a[0].grid(), a[1].colour()))),
    // Scaling, tiling, concatenation.
    prim!("upscale", [Grid, Int] -> Grid, "each cell becomes a k x k block", |a| V::Grid(prims::upscale(a[0].grid(), a[1].int()))),
    prim!("hupscale", [Grid, Int] -> Grid, "each cell becomes k cells side by side", |a| V::Grid(prims::hupscale(a[0].grid(), a[1].int()))),
    prim!("vupscale", [Grid, Int] -> Grid, "each cell becomes k cells stacked", |a| V::Grid(prims::vupscale(a[0].grid(), a[1].int()))),
    prim!("downscale", [Grid, Int] -> Grid, "keep the top-left cell of each k x k block", |a| V::Grid(prims::downscale(a[0].grid(), a[1].int()))),
    prim!("tile", [Grid, Int, Int] -> Grid, "rows x cols copies of the grid", |a| V::Grid(prims::tile(a[0].grid(), a[1].int(), a[2].int()))),
    prim!("hconcat", [Grid, Grid] -> Grid, "two grids side by side", |a| V::Grid(prims::hconcat(a[0].grid(), a[1].grid()))),
    prim!("vconcat", [Grid, Grid] -> Grid, "one grid above the other", |a| V::Grid(prims::vconcat(a[0].grid(), a[1].grid()))),
    prim!("dedup", [Grid] -> Grid, "remove rows and columns equal to the one before", |a| V::Grid(prims::dedup(a[0].grid()))),
    prim!("downscale_fg", [Grid, Int] -> Grid, "each k x k block becomes its most frequent non-background colour", |a| V::Grid(prims::downscale_fg(a[0].grid(), a[1].int()))),
    prim!("unrepeat", [Grid] -> Grid, "the smallest block that repeats to the grid", |a| V::Grid(prims::unrepeat(a[0].grid()))),
    prim!("top_left", [Grid, Int, Int] -> Grid, "the top-left h x w corner", |a| V::Grid(prims::top_left(a[0].grid(), a[1].int(), a[2].int()))),
    prim!("canvas", [Colour, Int, Int] -> Grid, "a grid of one colour, h x w", |a| V::Grid(prims::canvas(a[0].colour(), a[1].int(), a[2].int()))),
    // Colours.
    prim!("filter_colour", [Grid, Colour] -> Grid, "keep one colour, the rest becomes 0", |a| V::Grid(prims::filter_colour(a[0].grid(), a[1].colour()))),
    prim!("erase_colour", [Grid, Colour] -> Grid, "one colour becomes 0", |a| V::Grid(prims::erase_colour(a[0].grid(), a[1].colour()))),
    prim!("colour_all", [Grid, Colour] -> Grid, "every non-zero cell becomes one colour", |a| V::Grid(prims::colour_all(a[0].grid(), a[1].colour()))),
    prim!("replace", [Grid, Colour, Colour] -> Grid, "one colour becomes another", |a| V::Grid(prims::replace(a[0].grid(), a[1].colour(), a[2].colour()))),
    prim!("swap", [Grid, Colour, Colour] -> Grid, "exchange two colours", |a| V::Grid(prims::swap(a[0].grid(), a[1].colour(), a[2].colour()))),
    prim!("local_rule", [Grid, Rule] -> Grid, "apply a learned cell-wise rule", |a| match a[1] {
        V::Rule(r) => V::Grid(prims::apply_rule(a[0].grid(), r)),
        _ => V::Grid(a[0].grid().clone()),
    }),
    prim!("remap", [Grid, Map] -> Grid, "apply a colour substitution", |a| {
        let m = match a[1] { V::Map(m) => *m, _ => ColourMap::IDENTITY };
        V::Grid(prims::remap(a[0].grid(), &m))
    }),
    // Properties.
    prim!("height", [Grid] -> Int, "number of rows", |a| V::Int(a[0].grid().height() as i32)),
    prim!("width", [Grid] -> Int, "number of columns", |a| V::Int(a[0].grid().width() as i32)),
    prim!("colour_count", [Grid] -> Int, "number of distinct colours", |a| V::Int(prims::colour_count(a[0].grid()))),
    prim!("count_colour", [Grid, Colour] -> Int, "number of cells of a colour", |a| V::Int(prims::count_colour(a[0].grid(), a[1].colour()))),
    prim!("count_nonzero", [Grid] -> Int, "number of non-zero cells", |a| V::Int(prims::count_nonzero(a[0].grid()))),
    prim!("most_colour", [Grid] -> Colour, "the most frequent colour", |a| V::Colour(prims::most_colour(a[0].grid()))),
    prim!("least_colour", [Grid] -> Colour, "the least frequent colour present", |a| V::Colour(prims::least_colour(a[0].grid()))),
    prim!("main_colour", [Grid] -> Colour, "the most frequent non-background colour", |a| V::Colour(prims::main_colour(a[0].grid()))),
    prim!("is_sym_h", [Grid] -> Bool, "whether the grid equals its left-right mirror", |a| V::Bool(prims::flip_h(a[0].grid()) == *a[0].grid())),
    // Physics and filling.
    prim!("gravity", [Grid, Int] -> Grid, "cells fall (0 down, 1 up, 2 left, 3 right)", |a| V::Grid(prims::gravity(a[0].grid(), a[1].int()))),
    prim!("slide_objs", [Grid, Int] -> Grid, "objects slide until blocked (0 down, 1 up, 2 left, 3 right)", |a| V::Grid(prims::slide_objs(a[0].grid(), a[1].int()))),
    prim!("fill_enclosed", [Grid, Colour] -> Grid, "enclosed background becomes a colour", |a| V::Grid(prims::fill_enclosed(a[0].grid(), a[1].colour()))),
    prim!("outline", [Grid, Colour] -> Grid, "background cells 8-adjacent to objects become a colour", |a| V::Grid(prims::outline(a[0].grid(), a[1].colour(), true))),
    prim!("outline4", [Grid, Colour] -> Grid, "background cells 4-adjacent to objects become a colour", |a| V::Grid(prims::outline(a[0].grid(), a[1].colour(), false))),
    prim!("fill_bbox", [Grid, Colour] -> Grid, "background inside each object's bounding box becomes a colour", |a| V::Grid(prims::fill_bbox(a[0].grid(), a[1].colour()))),
    prim!("smear", [Grid, Int] -> Grid, "extend colours over background (0 right, 1 left, 2 down, 3 up, 4 horizontal, 5 vertical, 6 all)", |a| V::Grid(prims::smear(a[0].grid(), a[1].int()))),
    prim!("connect", [Grid] -> Grid, "join same-coloured cells on a row or column", |a| V::Grid(prims::connect(a[0].grid()))),
    prim!("symmetrize", [Grid, Int] -> Grid, "lay symmetric images over background (0 lr, 1 tb, 2 half turn, 3 all, 4 diagonal)", |a| V::Grid(prims::symmetrize(a[0].grid(), a[1].int()))),
    prim!("fill_sym", [Grid, Colour] -> Grid, "fill cells of a hole colour from consistent symmetries", |a| V::Grid(prims::fill_sym(a[0].grid(), a[1].colour()))),
    prim!("denoise", [Grid, Int] -> Grid, "objects of at most k cells become background", |a| V::Grid(prims::denoise(a[0].grid(), a[1].int()))),
    prim!("frame", [Grid, Colour] -> Grid, "draw a frame on the outermost cells", |a| V::Grid(prims::frame(a[0].grid(), a[1].colour()))),
    // Grids over grids.
    prim!("kronecker", [Grid, Grid] -> Grid, "a copy of the second grid for each non-zero cell of the first", |a| V::Grid(prims::kronecker(a[0].grid(), a[1].grid()))),
    prim!("complete_pattern", [Grid, Colour] -> Grid, "fill a hole colour from the smallest consistent periodic pattern", |a| V::Grid(prims::complete_pattern(a[0].grid(), a[1].colour()))),
    prim!("overlay", [Grid, Grid] -> Grid, "the second grid's non-zero cells over the first", |a| V::Grid(prims::overlay(a[0].grid(), a[1].grid()))),
    prim!("cell_and", [Grid, Grid, Colour] -> Grid, "colour where both are non-zero", |a| V::Grid(prims::cell_and(a[0].grid(), a[1].grid(), a[2].colour()))),
    prim!("cell_or", [Grid, Grid, Colour] -> Grid, "colour where either is non-zero", |a| V::Grid(prims::cell_or(a[0].grid(), a[1].grid(), a[2].colour()))),
    prim!("cell_xor", [Grid, Grid, Colour] -> Grid, "colour where exactly one is non-zero", |a| V::Grid(prims::cell_xor(a[0].grid(), a[1].grid(), a[2].colour()))),
    prim!("cell_nor", [Grid, Grid, Colour] -> Grid, "colour where both are zero", |a| V::Grid(prims::cell_nor(a[0].grid(), a[1].grid(), a[2].colour()))),
    prim!("cell_diff", [Grid, Grid, Colour] -> Grid, "colour where the first is non-zero and the second zero", |a| V::Grid(prims::cell_diff(a[0].grid(), a[1].grid(), a[2].colour()))),
    // Objects.
    prim!("objects", [Grid, Bool, Bool, Bool] -> Objs, "connected components (univalued, diagonal, without background)", |a| objs(prims::objects(a[0].grid(), a[1].bool(), a[2].bool(), a[3].bool()))),
    prim!("fg_partition", [Grid] -> Objs, "one object per non-background colour", |a| objs(prims::fg_partition(a[0].grid()))),
    prim!("colour_cells", [Grid, Colour] -> Obj, "the cells of one colour as an object", |a| V::Obj(prims::colour_cells(a[0].grid(), a[1].colour()))),
    prim!("argmax", [Objs, ObjKey] -> Obj, "the object with the largest key", |a| V::Obj(prims::argmax(a[0].objs(), obj_key(a[1])))),
    prim!("argmin", [Objs, ObjKey] -> Obj, "the object with the smallest key", |a| V::Obj(prims::argmin(a[0].objs(), obj_key(a[1])))),
    prim!("filter_eq", [Objs, ObjKey, Int] -> Objs, "the objects whose key equals a value", |a| objs(prims::filter_eq(a[0].objs(), obj_key(a[1]), a[2].int()))),
    prim!("filter_ne", [Objs, ObjKey, Int] -> Objs, "the objects whose key differs from a value", |a| objs(prims::filter_ne(a[0].objs(), obj_key(a[1]), a[2].int()))),
    prim!("unique_by", [Objs, ObjKey] -> Objs, "the objects whose key no other object shares", |a| objs(prims::unique_by(a[0].objs(), obj_key(a[1])))),
    prim!("remove", [Objs, Obj] -> Objs, "every object but one", |a| objs(prims::remove(a[0].objs(), a[1].obj()))),
    prim!("merge", [Objs] -> Obj, "all cells as one object", |a| V::Obj(prims::merge(a[0].objs()))),
    prim!("first", [Objs] -> Obj, "the first object in canonical order", |a| V::Obj(prims::first(a[0].objs()))),
    prim!("last", [Objs] -> Obj, "the last object in canonical order", |a| V::Obj(prims::last(a[0].objs()))),
    prim!("count", [Objs] -> Int, "number of objects", |a| V::Int(a[0].objs().len() as i32)),
    prim!("key_of", [Obj, ObjKey] -> Int, "an object's key value", |a| V::Int(obj_key(a[1]).of(a[0].obj()))),
    prim!("obj_colour", [Obj] -> Colour, "an object's most frequent colour", |a| V::Colour(a[0].obj().colour())),
    prim!("recolour", [Obj, Colour] -> Obj, "the object in one colour", |a| V::Obj(a[0].obj().recoloured(a[1].colour()))),
    prim!("recolour_objs", [Objs, Colour] -> Objs, "every object in one colour", |a| objs(prims::recolour_objs(a[0].objs(), a[1].colour()))),
    prim!("shift", [Obj, Int, Int] -> Obj, "the object moved by rows, columns", |a| V::Obj(prims::shift(a[0].obj(), a[1].int(), a[2].int()))),
    prim!("paint", [Grid, Obj] -> Grid, "draw an object on a grid", |a| V::Grid(prims::paint(a[0].grid(), a[1].obj()))),
    prim!("paint_all", [Grid, Objs] -> Grid, "draw objects on a grid", |a| V::Grid(prims::paint_all(a[0].grid(), a[1].objs()))),
    prim!("cover", [Grid, Obj] -> Grid, "erase an object to the background", |a| V::Grid(prims::cover(a[0].grid(), a[1].obj()))),
    prim!("subgrid", [Obj, Grid] -> Grid, "the part of a grid under an object's bounding box", |a| V::Grid(prims::subgrid(a[0].obj(), a[1].grid()))),
    prim!("obj_grid", [Obj] -> Grid, "an object alone on a 0 canvas", |a| V::Grid(prims::obj_grid(a[0].obj()))),
    prim!("fill_obj_bbox", [Grid, Obj, Colour] -> Grid, "background in an object's bounding box becomes a colour", |a| V::Grid(prims::fill_obj_bbox(a[0].grid(), a[1].obj(), a[2].colour()))),
    // Lists of grids.
    prim!("split_lines", [Grid] -> Grids, "pieces between full separator rows and columns", |a| grids(prims::split_lines(a[0].grid()))),
    prim!("hsplit", [Grid, Int] -> Grids, "n equal parts side by side", |a| grids(prims::hsplit(a[0].grid(), a[1].int()))),
    prim!("vsplit", [Grid, Int] -> Grids, "n equal parts stacked", |a| grids(prims::vsplit(a[0].grid(), a[1].int()))),
    prim!("halves", [Grid] -> Grids, "the two halves along the longer side", |a| grids(prims::halves(a[0].grid()))),
    prim!("obj_grids", [Objs, Grid] -> Grids, "each object's part of a grid", |a| grids(prims::obj_grids(a[0].objs(), a[1].grid()))),
    prim!("obj_shapes", [Objs] -> Grids, "each object alone on a 0 canvas", |a| grids(prims::obj_shapes(a[0].objs()))),
    prim!("pick_max", [Grids, GridKey] -> Grid, "the grid with the largest key", |a| V::Grid(prims::pick_max(a[0].grids(), grid_key(a[1])))),
    prim!("pick_min", [Grids, GridKey] -> Grid, "the grid with the smallest key", |a| V::Grid(prims::pick_min(a[0].grids(), grid_key(a[1])))),
    prim!("pick_unique", [Grids] -> Grid, "the odd one out", |a| V::Grid(prims::pick_unique(a[0].grids()))),
    prim!("pick_common", [Grids] -> Grid, "the most frequent grid", |a| V::Grid(prims::pick_common(a[0].grids()))),
    prim!("nth", [Grids, Int] -> Grid, "grid i (negative from the end)", |a| V::Grid(prims::nth(a[0].grids(), a[1].int()))),
    prim!("overlay_all", [Grids] -> Grid, "the grids painted over each other", |a| V::Grid(prims::overlay_all(a[0].grids()))),
    prim!("majority", [Grids] -> Grid, "the cell-wise most frequent colour", |a| V::Grid(prims::majority(a[0].grids()))),
    prim!("stack_h", [Grids] -> Grid, "the grids side by side", |a| V::Grid(prims::stack_h(a[0].grids()))),
    prim!("stack_v", [Grids] -> Grid, "the grids stacked", |a| V::Grid(prims::stack_v(a[0].grids()))),
    prim!("count_grids", [Grids] -> Int, "number of grids", |a| V::Int(a[0].grids().len() as i32)),
    prim!("map_grids", [Grids, GridFn] -> Grids, "a grid function applied to each grid", |a| {
        let p = grid_fn(a[1]);
        grids(a[0].grids().iter().map(|g| p.apply(&[&V::Grid(g.clone())]).grid().clone()).collect())
    }),
];

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn names_are_unique_and_literals_round_trip() {
        for (i, p) in PRIMS.iter().enumerate() {
            assert!(
                PRIMS[..i].iter().all(|q| q.name != p.name),
                "{} twice",
                p.name
            );
            assert!(!p.doc.is_empty());
        }
        for v in [
            V::Int(-3),
            V::Colour(7),
            V::Bool(true),
            V::Map(ColourMap::parse("{1:2}").unwrap()),
            V::ObjKey(ObjKey::Gaps),
            V::GridKey(GridKey::Rarest),
            V::GridFn(Prim::by_name("rot90").unwrap()),
            V::Rule(Arc::new(LocalRule {
                kind: 1,
                table: vec![(0x12, 3)],
            })),
        ] {
            assert!(v.ty().is_literal(), "{v:?}");
            let text = v.literal_text().unwrap();
            assert_eq!(Value::parse_literal(v.ty(), &text), Some(v));
        }
        assert_eq!(Value::parse_literal(Type::Colour, "10"), None);
        assert_eq!(
            Value::parse_literal(Type::GridFn, "height"),
            None,
            "not Grid -> Grid"
        );
        assert_eq!(Value::parse_literal(Type::Grid, "1"), None);
    }

    fn random_grid(rng: &mut impl Rng) -> Grid {
        let (h, w) = (rng.random_range(0..=30usize), rng.random_range(0..=30usize));
        if h * w == 0 {
            return Grid::empty();
        }
        let colours = rng.random_range(1..=10u8);
        let density: f64 = rng.random();
        let cells = (0..h * w)
            .map(|_| {
                if rng.random_bool(density) {
                    rng.random_range(0..colours)
                } else {
                    0
                }
            })
            .collect();
        Grid::from_cells(h, w, cells).unwrap()
    }

    fn random_value(ty: Type, rng: &mut impl Rng) -> Value {
        match ty {
            T::Grid => V::Grid(random_grid(rng)),
            T::Grids => grids(
                (0..rng.random_range(0..5))
                    .map(|_| random_grid(rng))
                    .collect(),
            ),
            T::Obj => V::Obj(prims::merge(&prims::objects(
                &random_grid(rng),
                false,
                true,
                true,
            ))),
            T::Objs => objs(prims::objects(
                &random_grid(rng),
                rng.random(),
                rng.random(),
                rng.random(),
            )),
            T::Int => V::Int(rng.random_range(-40..40)),
            T::Colour => V::Colour(rng.random_range(0..10)),
            T::Bool => V::Bool(rng.random()),
            T::Map => {
                let mut m = ColourMap::IDENTITY;
                for c in 0..10 {
                    m.0[c] = rng.random_range(0..10);
                }
                V::Map(m)
            }
            T::ObjKey => V::ObjKey(ObjKey::ALL[rng.random_range(0..ObjKey::ALL.len())]),
            T::GridKey => V::GridKey(GridKey::ALL[rng.random_range(0..GridKey::ALL.len())]),
            T::GridFn => V::GridFn(Prim(rng.random_range(0..PRIMS.len() as u16))),
            T::Rule => V::Rule(Arc::new(LocalRule {
                kind: rng.random_range(0..prims::RULE_KINDS),
                table: (0..rng.random_range(0..20))
                    .map(|_| (rng.random_range(0..1u64 << 20), rng.random_range(0..10)))
                    .collect(),
            })),
        }
    }

    fn valid(v: &Value) -> bool {
        let grid_ok =
            |g: &Grid| g.height() <= 30 && g.width() <= 30 && g.cells().iter().all(|&c| c <= 9);
        match v {
            V::Grid(g) => grid_ok(g),
            V::Grids(gs) => gs.iter().all(grid_ok),
            V::Colour(c) => *c <= 9,
            V::Obj(o) => o
                .cells()
                .iter()
                .all(|x| x.colour <= 9 && x.r < 30 && x.c < 30),
            _ => true,
        }
    }

    /// Every primitive on random arguments of its types, empty and 30 x 30 grids included, and
    /// on arguments of the wrong types: no panic, a result of the declared type, valid grids.
    #[test]
    fn no_primitive_panics_and_results_are_valid() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        for p in Prim::all() {
            let d = p.def();
            for trial in 0..60 {
                let args: Vec<Value> = d.args.iter().map(|&t| random_value(t, &mut rng)).collect();
                let refs: Vec<&Value> = args.iter().collect();
                let out = p.apply(&refs);
                assert_eq!(out.ty(), d.ret, "{} returned the wrong type", d.name);
                assert!(
                    valid(&out),
                    "{} gave an invalid value on trial {trial}",
                    d.name
                );
            }
            let wrong = V::Bool(true);
            let wrong: Vec<&Value> = d.args.iter().map(|_| &wrong).collect();
            assert_eq!(p.apply(&wrong).ty(), d.ret, "{} on wrong types", d.name);
            assert_eq!(p.apply(&[]).ty(), d.ret, "{} on no arguments", d.name);
        }
    }
}
