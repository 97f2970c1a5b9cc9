/**
 * The parser-independent model of one module that the spinRemote analysis works on.
 *
 * Two front ends fill it: {@link ./ts-frontend.ts} (TypeScript's parser, for `.ts`/`.tsx` and for
 * the ts-patch transformer) and {@link ./estree-frontend.ts} (acorn, for `.js`/`.mjs`). Both record
 * the same facts — scopes, bindings, value-position references, `this`-like constructs and call
 * sites — at the same source offsets, so that the analysis, which only sees this model, gives the
 * same answer whichever parser read the file.
 *
 * @module
 */

/** What kind of lexical scope a {@link ScopeModel} is. */
export type ScopeKind =
  /** the module (top level) */
  | "module"
  /** a non-arrow function, method, accessor, constructor, static block or TS namespace body */
  | "function"
  /** an arrow function */
  | "arrow"
  /** a block, a `for` head, a `switch` body */
  | "block"
  /** a class body (holds the class's own name for class expressions) */
  | "class"
  /** a `catch (e)` clause */
  | "catch";

/** How a name was bound. */
export type BindingKind =
  | "import"
  | "var"
  | "let"
  | "const"
  | "using"
  | "param"
  | "function"
  | "class"
  | "catch"
  | "enum"
  | "namespace"
  /** the implicit `arguments` of a non-arrow function */
  | "arguments";

/** A value binding: one name declared in one scope. */
export interface BindingModel {
  /** the bound name */
  readonly name: string;
  /** how it was declared */
  readonly kind: BindingKind;
  /** the scope it lives in */
  readonly scope: ScopeModel;
  /** offset of the declaring identifier (or of the function for implicit bindings) */
  readonly start: number;
  /** offset where the declaration has finished initialising (end of the declarator / class) */
  readonly declEnd: number;
  /** for imports: the module specifier and the imported name (`"*"` for a namespace, `"default"`) */
  readonly importFrom?: { readonly source: string; readonly imported: string };
}

/** One lexical scope. */
export interface ScopeModel {
  /** dense id, in creation order (pre-order) */
  readonly id: number;
  /** the kind of scope */
  readonly kind: ScopeKind;
  /** the enclosing scope; `undefined` only for the module scope */
  readonly parent: ScopeModel | undefined;
  /** source range of the node that created the scope */
  readonly start: number;
  /** end of that range */
  readonly end: number;
  /** value bindings declared directly in this scope */
  readonly bindings: Map<string, BindingModel>;
}

/** An identifier in value position (a read, a write, a call, a shorthand property, a JSX tag…). */
export interface ReferenceModel {
  /** the referenced name */
  readonly name: string;
  /** offset of the identifier */
  readonly start: number;
  /** end offset of the identifier */
  readonly end: number;
  /** the innermost scope the identifier occurs in */
  readonly scope: ScopeModel;
}

/** A construct that cannot be shipped to another peer when it escapes the remote body. */
export interface SpecialModel {
  /** which construct */
  readonly kind: "this" | "super" | "new.target" | "with";
  /** offset of the keyword */
  readonly start: number;
  /** end offset of the keyword (for `with`: of the `with` keyword) */
  readonly end: number;
  /** innermost scope it occurs in */
  readonly scope: ScopeModel;
  /**
   * the scope that gives `this`/`super`/`new.target` their meaning: the nearest enclosing non-arrow
   * function (or the class body, for field initialisers); `undefined` at module level
   */
  readonly thisScope: ScopeModel | undefined;
}

/** The callee of a call, in the shapes the analysis recognises. */
export type CalleeModel =
  | { readonly kind: "identifier"; readonly name: string; readonly ref: ReferenceModel }
  | { readonly kind: "member"; readonly object: CalleeModel; readonly property: string }
  | { readonly kind: "other" };

/** One element of an array-literal argument. */
export type ElementModel =
  | {
      readonly kind: "identifier";
      readonly name: string;
      readonly start: number;
      readonly end: number;
      readonly ref: ReferenceModel;
    }
  | { readonly kind: "hole" | "spread" | "other"; readonly start: number; readonly end: number };

/** One property of an object-literal argument. */
export interface PropertyModel {
  /** static key name, when the key is an identifier or a string literal and not computed */
  readonly key: string | undefined;
  /** `property` for `k: v`/`k`, `spread` for `...x`, `method` for methods and accessors */
  readonly kind: "property" | "spread" | "method";
  /** offset of the property */
  readonly start: number;
  /** end offset of the property */
  readonly end: number;
}

/** An argument of a call, classified. Parentheses (and TS `as`/`satisfies`/`!`) are looked through. */
export type ArgModel =
  | {
      readonly kind: "function";
      readonly start: number;
      readonly end: number;
      /** end of the argument as written, including wrapping parentheses (and TS `as …`) */
      readonly outerEnd: number;
      /** the function's own scope (params + body) */
      readonly scope: ScopeModel;
      readonly isArrow: boolean;
      readonly isGenerator: boolean;
      readonly isAsync: boolean;
      /** the name of a named function expression */
      readonly name: string | undefined;
      /** the parameters that are plain identifiers, by position (`undefined` for patterns) */
      readonly params: readonly (string | undefined)[];
    }
  | {
      readonly kind: "array";
      readonly start: number;
      readonly end: number;
      readonly elements: readonly ElementModel[];
    }
  | {
      readonly kind: "object";
      readonly start: number;
      readonly end: number;
      readonly properties: readonly PropertyModel[];
    }
  | { readonly kind: "spread" | "other"; readonly start: number; readonly end: number };

/** A call expression. */
export interface CallModel {
  /** offset of the call (start of the callee) */
  readonly start: number;
  /** end offset of the call (just after `)`) */
  readonly end: number;
  /** the callee, if it has a recognisable shape */
  readonly callee: CalleeModel;
  /** the arguments */
  readonly args: readonly ArgModel[];
  /** innermost scope of the call */
  readonly scope: ScopeModel;
  /** the name the call's value is given: `const add = remoteFn(…)` gives `add` */
  readonly assignedName: string | undefined;
}

/** A range of source text. */
export interface RangeModel {
  /** start offset */
  readonly start: number;
  /** end offset */
  readonly end: number;
}

/** A syntax error found while parsing. */
export interface ParseErrorModel {
  /** offset of the error */
  readonly start: number;
  /** the parser's message */
  readonly message: string;
}

/** Everything the analysis needs to know about one module. */
export interface ModuleModel {
  /** the file name as given */
  readonly fileName: string;
  /** the source text the offsets refer to */
  readonly text: string;
  /** which front end built it */
  readonly parser: "typescript" | "acorn";
  /** the module scope */
  readonly moduleScope: ScopeModel;
  /** every scope, in pre-order */
  readonly scopes: readonly ScopeModel[];
  /** every value-position reference, in source order */
  readonly references: readonly ReferenceModel[];
  /** every `this`/`super`/`new.target`/`with` */
  readonly specials: readonly SpecialModel[];
  /** every call expression, in pre-order */
  readonly calls: readonly CallModel[];
  /** ranges of loop statements (`for`, `for-in`, `for-of`, `while`, `do`) */
  readonly loops: readonly RangeModel[];
  /** suspension points: `await`, `for await`, `await using`, with the scope they occur in */
  readonly awaits: readonly { readonly start: number; readonly scope: ScopeModel }[];
  /**
   * where generated module-level code goes: the end of the leading run of import declarations,
   * or the start of the first statement when the module does not begin with imports
   */
  readonly insertionPoint: number;
  /** syntax errors reported by the parser (the analysis still runs on what was parsed) */
  readonly parseErrors: readonly ParseErrorModel[];
}

/**
 * Builds a {@link ModuleModel}: the front ends push scopes, declare names and record references
 * while they walk their AST; {@link ModelBuilder.finish} freezes the result.
 */
export class ModelBuilder {
  readonly #scopes: ScopeModel[] = [];
  readonly #references: ReferenceModel[] = [];
  readonly #specials: SpecialModel[] = [];
  readonly #calls: CallModel[] = [];
  readonly #loops: RangeModel[] = [];
  readonly #awaits: { start: number; scope: ScopeModel }[] = [];
  readonly #parseErrors: ParseErrorModel[] = [];
  #current: ScopeModel;
  readonly #moduleScope: ScopeModel;
  /** stack of `this`-giving scopes (non-arrow functions, class bodies for initialisers) */
  readonly #thisStack: (ScopeModel | undefined)[] = [undefined];

  /**
   * @param fileName the module's file name
   * @param text the module's source text
   * @param parser which front end is building
   */
  constructor(
    readonly fileName: string,
    readonly text: string,
    readonly parser: ModuleModel["parser"],
  ) {
    this.#moduleScope = this.#make("module", undefined, 0, text.length);
    this.#current = this.#moduleScope;
  }

  #make(kind: ScopeKind, parent: ScopeModel | undefined, start: number, end: number): ScopeModel {
    const scope: ScopeModel = { id: this.#scopes.length, kind, parent, start, end, bindings: new Map() };
    this.#scopes.push(scope);
    return scope;
  }

  /** the scope declarations and references currently go to */
  get current(): ScopeModel {
    return this.#current;
  }

  /** the module scope */
  get moduleScope(): ScopeModel {
    return this.#moduleScope;
  }

  /** the current `this`-giving scope */
  get thisScope(): ScopeModel | undefined {
    return this.#thisStack[this.#thisStack.length - 1];
  }

  /**
   * Runs `fn` inside a new scope. Non-arrow functions also get an implicit `arguments` binding and
   * become the `this` scope; pass `thisScope: true` for class bodies while visiting initialisers.
   */
  withScope<T>(kind: ScopeKind, start: number, end: number, fn: (scope: ScopeModel) => T): T {
    const scope = this.#make(kind, this.#current, start, end);
    const saved = this.#current;
    this.#current = scope;
    if (kind === "function") {
      scope.bindings.set("arguments", { name: "arguments", kind: "arguments", scope, start, declEnd: start });
      this.#thisStack.push(scope);
    }
    try {
      return fn(scope);
    } finally {
      if (kind === "function") this.#thisStack.pop();
      this.#current = saved;
    }
  }

  /** Runs `fn` with `scope` as the `this` scope (class field initialisers and static blocks). */
  withThisScope<T>(scope: ScopeModel, fn: () => T): T {
    this.#thisStack.push(scope);
    try {
      return fn();
    } finally {
      this.#thisStack.pop();
    }
  }

  /** The nearest enclosing scope that takes `var` declarations (function, arrow or module). */
  varScope(): ScopeModel {
    let s: ScopeModel | undefined = this.#current;
    while (s && s.kind !== "function" && s.kind !== "arrow" && s.kind !== "module") s = s.parent;
    return s ?? this.#moduleScope;
  }

  /** Declares a value binding in `scope` (default: the current scope). The first declaration wins. */
  declare(
    name: string,
    kind: BindingKind,
    start: number,
    declEnd: number,
    scope: ScopeModel = this.#current,
    importFrom?: BindingModel["importFrom"],
  ): void {
    if (scope.bindings.has(name)) return;
    const binding: BindingModel = importFrom
      ? { name, kind, scope, start, declEnd, importFrom }
      : { name, kind, scope, start, declEnd };
    scope.bindings.set(name, binding);
  }

  /** Records a value-position reference in the current scope and returns it. */
  reference(name: string, start: number, end: number): ReferenceModel {
    const ref: ReferenceModel = { name, start, end, scope: this.#current };
    this.#references.push(ref);
    return ref;
  }

  /** Records a `this`/`super`/`new.target`/`with`. */
  special(kind: SpecialModel["kind"], start: number, end: number): void {
    this.#specials.push({ kind, start, end, scope: this.#current, thisScope: this.thisScope });
  }

  /** Records a call. */
  call(call: CallModel): void {
    this.#calls.push(call);
  }

  /** Records a loop statement's range. */
  loop(start: number, end: number): void {
    this.#loops.push({ start, end });
  }

  /** Records a suspension point (`await`, `for await`, `await using`) in the current scope. */
  suspension(start: number): void {
    this.#awaits.push({ start, scope: this.#current });
  }

  /** Records a syntax error. */
  parseError(start: number, message: string): void {
    this.#parseErrors.push({ start, message });
  }

  /** Freezes the model. */
  finish(insertionPoint: number): ModuleModel {
    const byStart = (a: { start: number }, b: { start: number }) => a.start - b.start;
    return {
      fileName: this.fileName,
      text: this.text,
      parser: this.parser,
      moduleScope: this.#moduleScope,
      scopes: this.#scopes,
      references: [...this.#references].sort(byStart),
      specials: [...this.#specials].sort(byStart),
      calls: [...this.#calls].sort((a, b) => a.start - b.start || b.end - a.end),
      loops: this.#loops,
      awaits: this.#awaits,
      insertionPoint,
      parseErrors: this.#parseErrors,
    };
  }
}

/** Resolves a reference to its binding by walking up the scope chain; `undefined` means global. */
export function resolve(ref: {
  readonly name: string;
  readonly scope: ScopeModel;
}): BindingModel | undefined {
  for (let s: ScopeModel | undefined = ref.scope; s; s = s.parent) {
    const b = s.bindings.get(ref.name);
    if (b) return b;
  }
  return undefined;
}

/** Whether `scope` is `ancestor` or lies inside it. */
export function isWithin(scope: ScopeModel | undefined, ancestor: ScopeModel): boolean {
  for (let s = scope; s; s = s.parent) if (s === ancestor) return true;
  return false;
}

/** The nearest enclosing function-like scope (function, arrow or module) of `scope`, inclusive. */
export function functionScopeOf(scope: ScopeModel): ScopeModel {
  let s: ScopeModel | undefined = scope;
  while (s && s.kind !== "function" && s.kind !== "arrow" && s.kind !== "module") s = s.parent;
  return s ?? scope;
}
