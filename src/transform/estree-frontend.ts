/**
 * Builds the {@link ModuleModel} from an ESTree produced by acorn, for plain JavaScript
 * (`.js`/`.mjs`/`.cjs`). It records exactly the facts the TypeScript front end records, at the same
 * offsets, so both give the same diagnostics on the same JavaScript input.
 *
 * @module
 */
import * as acorn from "acorn";
import {
  type ArgModel,
  type BindingKind,
  type CalleeModel,
  type ElementModel,
  ModelBuilder,
  type ModuleModel,
  type PropertyModel,
  type ReferenceModel,
  type ScopeModel,
} from "./model.js";

type N = acorn.AnyNode;

// parentheses are kept as nodes so that an argument's written extent is known (as in TypeScript)
const BASE_OPTIONS: acorn.Options = { ecmaVersion: "latest", allowHashBang: true, preserveParens: true };

/** Looks through parentheses. */
function unwrap(node: N): N {
  let n: N = node;
  while (n.type === "ParenthesizedExpression") n = n.expression;
  return n;
}

/**
 * Parses JavaScript with acorn. Tries a module first; if that fails (for instance on a `with`
 * statement, which only sloppy scripts allow), retries as a lenient script that still accepts
 * `import`/`export` and top-level `await`, so the analysis can report the construct itself.
 */
export function parseWithAcorn(fileName: string, text: string): ModuleModel {
  let program: acorn.Program;
  try {
    program = acorn.parse(text, { ...BASE_OPTIONS, sourceType: "module" });
  } catch (moduleError) {
    try {
      program = acorn.parse(text, {
        ...BASE_OPTIONS,
        sourceType: "script",
        allowImportExportEverywhere: true,
        allowAwaitOutsideFunction: true,
        allowReturnOutsideFunction: true,
      });
    } catch {
      const b = new ModelBuilder(fileName, text, "acorn");
      const pos = (moduleError as { pos?: unknown }).pos;
      b.parseError(typeof pos === "number" ? pos : 0, (moduleError as Error).message);
      return b.finish(0);
    }
  }
  return modelFromProgram(fileName, text, program);
}

function isNode(v: unknown): v is N {
  return typeof v === "object" && v !== null && typeof (v as { type?: unknown }).type === "string";
}

const SKIP_KEYS = new Set(["type", "start", "end", "loc", "range"]);

function propertyKey(key: acorn.Expression | acorn.PrivateIdentifier, computed: boolean): string | undefined {
  if (computed) return undefined;
  if (key.type === "Identifier") return key.name;
  if (key.type === "Literal" && (typeof key.value === "string" || typeof key.value === "number")) {
    return String(key.value);
  }
  return undefined;
}

/** Builds the model of an acorn `Program`. */
export function modelFromProgram(fileName: string, text: string, program: acorn.Program): ModuleModel {
  const b = new ModelBuilder(fileName, text, "acorn");
  const nameHints = new Map<N, string>();

  const hint = (expr: N | null | undefined, name: string | undefined): void => {
    if (!expr || name === undefined) return;
    const e = unwrap(expr);
    nameHints.set(e.type === "ChainExpression" ? e.expression : e, name);
  };

  const ref = (id: acorn.Identifier): ReferenceModel => b.reference(id.name, id.start, id.end);

  const visitAll = (nodes: readonly (N | null | undefined)[]): void => {
    for (const n of nodes) if (n) visit(n);
  };

  const bindPattern = (p: acorn.Pattern, kind: BindingKind, scope: ScopeModel, declEnd: number): void => {
    switch (p.type) {
      case "Identifier":
        b.declare(p.name, kind, p.start, declEnd, scope);
        return;
      case "ObjectPattern":
        for (const prop of p.properties) {
          if (prop.type === "RestElement") bindPattern(prop.argument, kind, scope, declEnd);
          else {
            if (prop.computed) visit(prop.key);
            bindPattern(prop.value, kind, scope, declEnd);
          }
        }
        return;
      case "ArrayPattern":
        for (const el of p.elements) if (el) bindPattern(el, kind, scope, declEnd);
        return;
      case "RestElement":
        bindPattern(p.argument, kind, scope, declEnd);
        return;
      case "AssignmentPattern":
        bindPattern(p.left, kind, scope, declEnd);
        visit(p.right);
        return;
      case "MemberExpression":
        visit(p);
        return;
    }
  };

  const visitDeclaration = (d: acorn.VariableDeclaration): void => {
    const kind: BindingKind =
      d.kind === "var" ? "var" : d.kind === "let" ? "let" : d.kind === "const" ? "const" : "using";
    if ((d.kind as string) === "await using") b.suspension(d.start);
    const scope = kind === "var" ? b.varScope() : b.current;
    for (const decl of d.declarations) {
      bindPattern(decl.id, kind, scope, decl.end);
      if (decl.init) {
        if (decl.id.type === "Identifier") hint(decl.init, decl.id.name);
        visit(decl.init);
      }
    }
  };

  /** `owner`: the method or property a method's function belongs to (its scope starts there, as in TypeScript) */
  const visitFunction = (fn: acorn.Function & N, owner?: N): ScopeModel => {
    const kind = fn.type === "ArrowFunctionExpression" ? "arrow" : "function";
    return b.withScope(kind, owner?.start ?? fn.start, fn.end, (scope) => {
      if (fn.type === "FunctionExpression" && fn.id)
        b.declare(fn.id.name, "function", fn.id.start, fn.end, scope);
      for (const p of fn.params) bindPattern(p, "param", scope, p.end);
      if (fn.body.type === "BlockStatement") visitAll(fn.body.body);
      else visit(fn.body);
      return scope;
    });
  };

  const visitClass = (
    c: acorn.ClassDeclaration | acorn.ClassExpression | acorn.AnonymousClassDeclaration,
  ): void => {
    if (c.type === "ClassDeclaration" && c.id) b.declare(c.id.name, "class", c.id.start, c.end);
    b.withScope("class", c.start, c.end, (classScope) => {
      if (c.type === "ClassExpression" && c.id) b.declare(c.id.name, "class", c.id.start, c.end, classScope);
      if (c.superClass) visit(c.superClass);
      for (const m of c.body.body) {
        if (m.type === "PropertyDefinition") {
          if (m.computed) visit(m.key);
          const value = m.value;
          if (value) {
            hint(value, propertyKey(m.key, m.computed));
            b.withThisScope(classScope, () => visit(value));
          }
        } else if (m.type === "StaticBlock") {
          b.withScope("function", m.start, m.end, () => visitAll(m.body));
        } else {
          if (m.computed) visit(m.key);
          visitFunction(m.value, m);
        }
      }
    });
  };

  const calleeOf = (expr: acorn.Expression | acorn.Super): CalleeModel => {
    const e = unwrap(expr) as acorn.Expression | acorn.Super;
    if (e.type === "Identifier") return { kind: "identifier", name: e.name, ref: ref(e) };
    if (
      e.type === "MemberExpression" &&
      !e.computed &&
      e.property.type === "Identifier" &&
      e.object.type !== "Super"
    ) {
      return { kind: "member", object: calleeOf(e.object), property: e.property.name };
    }
    visit(e);
    return { kind: "other" };
  };

  const argOf = (written: acorn.Expression | acorn.SpreadElement): ArgModel => {
    if (written.type === "SpreadElement") {
      visit(written.argument);
      return { kind: "spread", start: written.start, end: written.end };
    }
    const arg = unwrap(written) as acorn.Expression;
    if (arg.type === "ArrowFunctionExpression" || arg.type === "FunctionExpression") {
      const scope = visitFunction(arg);
      return {
        kind: "function",
        start: arg.start,
        end: arg.end,
        outerEnd: written.end,
        scope,
        isArrow: arg.type === "ArrowFunctionExpression",
        isGenerator: arg.generator,
        isAsync: arg.async,
        name: arg.type === "FunctionExpression" && arg.id ? arg.id.name : undefined,
        params: arg.params.map((p) => (p.type === "Identifier" ? p.name : undefined)),
      };
    }
    if (arg.type === "ArrayExpression") {
      const elements: ElementModel[] = arg.elements.map((el): ElementModel => {
        if (el === null) return { kind: "hole", start: arg.start, end: arg.start };
        if (el.type === "SpreadElement") {
          visit(el.argument);
          return { kind: "spread", start: el.start, end: el.end };
        }
        if (el.type === "Identifier")
          return { kind: "identifier", name: el.name, start: el.start, end: el.end, ref: ref(el) };
        visit(el);
        return { kind: "other", start: el.start, end: el.end };
      });
      return { kind: "array", start: arg.start, end: arg.end, elements };
    }
    if (arg.type === "ObjectExpression") {
      const properties: PropertyModel[] = [];
      for (const p of arg.properties) {
        visit(p);
        if (p.type === "SpreadElement")
          properties.push({ key: undefined, kind: "spread", start: p.start, end: p.end });
        else {
          const kind = p.method || p.kind !== "init" ? "method" : "property";
          properties.push({ key: propertyKey(p.key, p.computed), kind, start: p.start, end: p.end });
        }
      }
      return { kind: "object", start: arg.start, end: arg.end, properties };
    }
    visit(arg);
    return { kind: "other", start: arg.start, end: arg.end };
  };

  function visit(node: N): void {
    switch (node.type) {
      case "Identifier":
        ref(node);
        return;
      case "ThisExpression":
        b.special("this", node.start, node.end);
        return;
      case "Super":
        b.special("super", node.start, node.end);
        return;
      case "MetaProperty":
        if (node.meta.name === "new") b.special("new.target", node.start, node.end);
        return;
      case "PrivateIdentifier":
      case "Literal":
      case "BreakStatement":
      case "ContinueStatement":
      case "ImportAttribute":
      case "TemplateElement":
        return;
      case "VariableDeclaration":
        visitDeclaration(node);
        return;
      case "FunctionDeclaration":
        if (node.id) b.declare(node.id.name, "function", node.id.start, node.end);
        visitFunction(node);
        return;
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        visitFunction(node);
        return;
      case "ClassDeclaration":
      case "ClassExpression":
        visitClass(node);
        return;
      case "ImportDeclaration": {
        const source = String(node.source.value);
        for (const s of node.specifiers) {
          const imported =
            s.type === "ImportDefaultSpecifier"
              ? "default"
              : s.type === "ImportNamespaceSpecifier"
                ? "*"
                : s.imported.type === "Identifier"
                  ? s.imported.name
                  : String(s.imported.value);
          b.declare(s.local.name, "import", s.local.start, node.end, b.moduleScope, { source, imported });
        }
        return;
      }
      case "ExportNamedDeclaration":
        if (node.declaration) visit(node.declaration);
        else if (!node.source) {
          for (const s of node.specifiers) if (s.local.type === "Identifier") ref(s.local);
        }
        return;
      case "ExportDefaultDeclaration": {
        const d = node.declaration as N;
        if (d.type !== "FunctionDeclaration" && d.type !== "ClassDeclaration") hint(d, "default");
        visit(d);
        return;
      }
      case "ExportAllDeclaration":
        return;
      case "BlockStatement":
        b.withScope("block", node.start, node.end, () => visitAll(node.body));
        return;
      case "StaticBlock":
        b.withScope("function", node.start, node.end, () => visitAll(node.body));
        return;
      case "ForStatement":
        b.loop(node.start, node.end);
        b.withScope("block", node.start, node.end, () =>
          visitAll([node.init, node.test, node.update, node.body]),
        );
        return;
      case "ForInStatement":
      case "ForOfStatement":
        b.loop(node.start, node.end);
        if (node.type === "ForOfStatement" && node.await) b.suspension(node.start);
        b.withScope("block", node.start, node.end, () => visitAll([node.left, node.right, node.body]));
        return;
      case "WhileStatement":
      case "DoWhileStatement":
        b.loop(node.start, node.end);
        visitAll([node.test, node.body]);
        return;
      case "SwitchStatement":
        visit(node.discriminant);
        b.withScope("block", node.start, node.end, () => {
          for (const c of node.cases) {
            if (c.test) visit(c.test);
            visitAll(c.consequent);
          }
        });
        return;
      case "CatchClause":
        b.withScope("catch", node.start, node.end, (scope) => {
          if (node.param) bindPattern(node.param, "catch", scope, node.param.end);
          visit(node.body);
        });
        return;
      case "LabeledStatement":
        visit(node.body);
        return;
      case "WithStatement":
        b.special("with", node.start, node.start + 4);
        visit(node.object);
        visit(node.body);
        return;
      case "AwaitExpression":
        b.suspension(node.start);
        visit(node.argument);
        return;
      case "MemberExpression":
        visit(node.object);
        if (node.computed) visit(node.property);
        return;
      case "Property":
        if (node.computed) visit(node.key);
        if (!node.shorthand) hint(node.value, propertyKey(node.key, node.computed));
        if (node.value.type === "FunctionExpression" && (node.method || node.kind !== "init")) {
          visitFunction(node.value, node);
        } else visit(node.value);
        return;
      case "AssignmentExpression":
        if (node.operator === "=") {
          const l = unwrap(node.left);
          if (l.type === "Identifier") hint(node.right, l.name);
          else if (l.type === "MemberExpression" && !l.computed && l.property.type === "Identifier") {
            hint(node.right, l.property.name);
          }
        }
        visit(node.left);
        visit(node.right);
        return;
      case "CallExpression": {
        const callee = calleeOf(node.callee);
        const args = node.arguments.map(argOf);
        b.call({
          start: node.start,
          end: node.end,
          callee,
          args,
          scope: b.current,
          assignedName: nameHints.get(node),
        });
        return;
      }
      default: {
        const record = node as unknown as Record<string, unknown>;
        for (const key of Object.keys(record)) {
          if (SKIP_KEYS.has(key)) continue;
          const v = record[key];
          if (Array.isArray(v)) {
            for (const item of v) if (isNode(item)) visit(item);
          } else if (isNode(v)) visit(v);
        }
      }
    }
  }

  visitAll(program.body);

  // where generated module-level code goes: after the leading directives and imports
  let insertionPoint = program.body.length > 0 ? program.body[0]!.start : 0;
  let seenImport = false;
  for (const s of program.body) {
    const isPrologue = !seenImport && s.type === "ExpressionStatement" && s.directive !== undefined;
    if (s.type === "ImportDeclaration") seenImport = true;
    else if (!isPrologue) break;
    insertionPoint = s.end;
  }
  return b.finish(insertionPoint);
}
