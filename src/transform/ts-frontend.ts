/**
 * Builds the {@link ModuleModel} from a TypeScript `SourceFile` (TypeScript's own parser). Used for
 * `.ts`/`.tsx`/`.mts`/`.cts`/`.jsx` files by the Vite plugin and the CLI, and on the program's
 * source files by the ts-patch transformer.
 *
 * Type-only syntax (annotations, interfaces, type aliases, `import type`, `typeof` in a type, type
 * arguments, `implements`) never produces a binding or a reference.
 *
 * @module
 */
import ts from "typescript";
import { registerTypeScriptFrontend } from "./frontends.js";
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

/**
 * `ts.SyntaxKind`, read once: on the CommonJS build of TypeScript every `ts.X` is a getter, and the
 * visitor's `switch` would otherwise call it once per case per node.
 */
const SK = ts.SyntaxKind;

/** The script kind TypeScript should parse a file name as. */
export function scriptKindFor(fileName: string): ts.ScriptKind {
  if (/\.tsx$/i.test(fileName)) return ts.ScriptKind.TSX;
  if (/\.jsx$/i.test(fileName)) return ts.ScriptKind.JSX;
  if (/\.[cm]?js$/i.test(fileName)) return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

/** Parses `text` with TypeScript's parser and builds its model. */
export function parseWithTypeScript(fileName: string, text: string): ModuleModel {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, scriptKindFor(fileName));
  return modelFromSourceFile(sf);
}

/** The offset of the first token at or after `pos` (skips whitespace and comments). */
function skipTrivia(text: string, pos: number): number {
  const trivia = /(?:\s+|\/\/[^\n\r]*|\/\*[\s\S]*?\*\/)*/y;
  trivia.lastIndex = pos;
  trivia.exec(text);
  return trivia.lastIndex;
}

/** Looks through parentheses and TS-only wrappers (`as`, `satisfies`, `!`, `<T>x`). */
export function unwrap(node: ts.Expression): ts.Expression {
  let n = node;
  for (;;) {
    if (
      ts.isParenthesizedExpression(n) ||
      ts.isAsExpression(n) ||
      ts.isSatisfiesExpression(n) ||
      ts.isNonNullExpression(n) ||
      ts.isTypeAssertionExpression(n)
    ) {
      n = n.expression;
    } else {
      return n;
    }
  }
}

function propertyKey(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name))
    return name.text;
  if (ts.isNumericLiteral(name)) return name.text;
  return undefined;
}

interface ParseDiagnosticsHolder {
  readonly parseDiagnostics?: readonly ts.Diagnostic[];
}

/** Builds the model of an already-parsed `SourceFile` (as handed to a transformer by the program). */
export function modelFromSourceFile(sf: ts.SourceFile): ModuleModel {
  const b = new ModelBuilder(sf.fileName, sf.text, "typescript");
  const nameHints = new Map<ts.Node, string>();

  const start = (n: ts.Node): number => n.getStart(sf);
  /** where a declaration's own syntax begins, after `export`/`default` (acorn's start for it) */
  const declStart = (n: ts.Node): number => {
    let pos = start(n);
    for (const m of (ts.canHaveModifiers(n) ? ts.getModifiers(n) : undefined) ?? []) {
      if (m.kind !== SK.ExportKeyword && m.kind !== SK.DefaultKeyword) break;
      pos = skipTrivia(sf.text, m.end);
    }
    return pos;
  };

  const hint = (expr: ts.Expression | undefined, name: string | undefined): void => {
    if (expr && name !== undefined) nameHints.set(unwrap(expr), name);
  };

  const ref = (id: ts.Identifier): ReferenceModel => b.reference(id.text, start(id), id.end);

  /** Declares the names of a binding pattern and visits its default values and computed keys. */
  const bindPattern = (name: ts.BindingName, kind: BindingKind, scope: ScopeModel, declEnd: number): void => {
    if (ts.isIdentifier(name)) {
      b.declare(name.text, kind, start(name), declEnd, scope);
      return;
    }
    for (const el of name.elements) {
      if (ts.isOmittedExpression(el)) continue;
      if (el.propertyName && ts.isComputedPropertyName(el.propertyName)) visit(el.propertyName.expression);
      bindPattern(el.name, kind, scope, declEnd);
      if (el.initializer) visit(el.initializer);
    }
  };

  const declarationKind = (list: ts.VariableDeclarationList): BindingKind => {
    const f = list.flags;
    if (f & ts.NodeFlags.Const) return "const";
    if (f & ts.NodeFlags.Let) return "let";
    if (f & ts.NodeFlags.Using || f & ts.NodeFlags.AwaitUsing) return "using";
    return "var";
  };

  const visitDeclarationList = (list: ts.VariableDeclarationList): void => {
    const kind = declarationKind(list);
    if ((list.flags & ts.NodeFlags.AwaitUsing) === ts.NodeFlags.AwaitUsing) b.suspension(start(list));
    const scope = kind === "var" ? b.varScope() : b.current;
    for (const d of list.declarations) {
      bindPattern(d.name, kind, scope, d.end);
      if (d.initializer) {
        if (ts.isIdentifier(d.name)) hint(d.initializer, d.name.text);
        visit(d.initializer);
      }
    }
  };

  const visitStatements = (statements: readonly ts.Statement[]): void => {
    for (const s of statements) visit(s);
  };

  /** Visits a function-like node; returns the scope it created. */
  const visitFunction = (fn: ts.SignatureDeclaration): ScopeModel => {
    if (fn.name && ts.isComputedPropertyName(fn.name)) visit(fn.name.expression);
    const mods = ts.canHaveDecorators(fn) ? ts.getDecorators(fn) : undefined;
    for (const d of mods ?? []) visit(d.expression);
    const kind = ts.isArrowFunction(fn) ? "arrow" : "function";
    return b.withScope(kind, declStart(fn), fn.end, (scope) => {
      if (ts.isFunctionExpression(fn) && fn.name)
        b.declare(fn.name.text, "function", start(fn.name), fn.end, scope);
      for (const p of fn.parameters) {
        for (const d of ts.getDecorators(p) ?? []) visit(d.expression);
        if (ts.isIdentifier(p.name) && p.name.text === "this") continue;
        bindPattern(p.name, "param", scope, p.end);
        if (p.initializer) visit(p.initializer);
      }
      const body = (fn as ts.FunctionLikeDeclarationBase).body;
      if (body !== undefined && ts.isBlock(body)) visitStatements(body.statements);
      else if (body !== undefined) visit(body);
      return scope;
    });
  };

  const visitClass = (node: ts.ClassLikeDeclaration): void => {
    if (ts.isClassDeclaration(node) && node.name)
      b.declare(node.name.text, "class", start(node.name), node.end);
    for (const d of ts.getDecorators(node) ?? []) visit(d.expression);
    b.withScope("class", declStart(node), node.end, (classScope) => {
      if (ts.isClassExpression(node) && node.name) {
        b.declare(node.name.text, "class", start(node.name), node.end, classScope);
      }
      for (const h of node.heritageClauses ?? []) {
        if (h.token !== SK.ExtendsKeyword) continue;
        for (const t of h.types) visit(t.expression);
      }
      for (const m of node.members) {
        if (ts.isPropertyDeclaration(m)) {
          for (const d of ts.getDecorators(m) ?? []) visit(d.expression);
          if (ts.isComputedPropertyName(m.name)) visit(m.name.expression);
          const init = m.initializer;
          if (init) {
            hint(init, propertyKey(m.name));
            b.withThisScope(classScope, () => visit(init));
          }
        } else if (ts.isClassStaticBlockDeclaration(m)) {
          b.withScope("function", start(m), m.end, () => visitStatements(m.body.statements));
        } else if (
          ts.isMethodDeclaration(m) ||
          ts.isConstructorDeclaration(m) ||
          ts.isGetAccessorDeclaration(m) ||
          ts.isSetAccessorDeclaration(m)
        ) {
          visitFunction(m);
        }
      }
    });
  };

  const calleeOf = (expr: ts.Expression): CalleeModel => {
    const e = unwrap(expr);
    if (ts.isIdentifier(e)) return { kind: "identifier", name: e.text, ref: ref(e) };
    if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.name)) {
      return { kind: "member", object: calleeOf(e.expression), property: e.name.text };
    }
    visit(e);
    return { kind: "other" };
  };

  const argOf = (arg: ts.Expression): ArgModel => {
    if (ts.isSpreadElement(arg)) {
      visit(arg.expression);
      return { kind: "spread", start: start(arg), end: arg.end };
    }
    const e = unwrap(arg);
    if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) {
      const scope = visitFunction(e);
      const mods = ts.getModifiers(e) ?? [];
      return {
        kind: "function",
        start: start(e),
        end: e.end,
        outerEnd: arg.end,
        scope,
        isArrow: ts.isArrowFunction(e),
        isGenerator: ts.isFunctionExpression(e) && e.asteriskToken !== undefined,
        isAsync: mods.some((m) => m.kind === SK.AsyncKeyword),
        name: ts.isFunctionExpression(e) && e.name ? e.name.text : undefined,
        params: e.parameters.map((p) => (ts.isIdentifier(p.name) ? p.name.text : undefined)),
      };
    }
    if (ts.isArrayLiteralExpression(e)) {
      const arrayStart = start(e);
      const elements: ElementModel[] = e.elements.map((el): ElementModel => {
        if (ts.isOmittedExpression(el)) return { kind: "hole", start: arrayStart, end: arrayStart };
        if (ts.isSpreadElement(el)) {
          visit(el.expression);
          return { kind: "spread", start: start(el), end: el.end };
        }
        if (ts.isIdentifier(el))
          return { kind: "identifier", name: el.text, start: start(el), end: el.end, ref: ref(el) };
        visit(el);
        return { kind: "other", start: start(el), end: el.end };
      });
      return { kind: "array", start: arrayStart, end: e.end, elements };
    }
    if (ts.isObjectLiteralExpression(e)) {
      const properties: PropertyModel[] = [];
      for (const p of e.properties) {
        visit(p);
        const kind = ts.isSpreadAssignment(p)
          ? "spread"
          : ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)
            ? "property"
            : "method";
        const key = ts.isSpreadAssignment(p) || p.name === undefined ? undefined : propertyKey(p.name);
        properties.push({ key, kind, start: start(p), end: p.end });
      }
      return { kind: "object", start: start(e), end: e.end, properties };
    }
    visit(arg);
    return { kind: "other", start: start(e), end: e.end };
  };

  const visitCall = (node: ts.CallExpression): void => {
    const callee = calleeOf(node.expression);
    const args = node.arguments.map(argOf);
    b.call({
      start: start(node),
      end: node.end,
      callee,
      args,
      scope: b.current,
      assignedName: nameHints.get(node),
    });
  };

  const visitJsxTag = (tag: ts.JsxTagNameExpression): void => {
    if (ts.isIdentifier(tag)) {
      // lower-case and dashed names are intrinsic elements, not references (TypeScript's rule)
      if (!/^[a-z]/.test(tag.text) && !tag.text.includes("-")) ref(tag);
    } else if (ts.isPropertyAccessExpression(tag)) {
      visit(tag.expression);
    } else if (tag.kind === SK.ThisKeyword) {
      b.special("this", start(tag), tag.end);
    }
  };

  function visit(node: ts.Node): void {
    switch (node.kind) {
      case SK.Identifier:
        ref(node as ts.Identifier);
        return;
      case SK.ThisKeyword:
        b.special("this", start(node), node.end);
        return;
      case SK.SuperKeyword:
        b.special("super", start(node), node.end);
        return;
      case SK.MetaProperty: {
        const m = node as ts.MetaProperty;
        if (m.keywordToken === SK.NewKeyword) b.special("new.target", start(m), m.end);
        return;
      }
      case SK.PrivateIdentifier:
      case SK.InterfaceDeclaration:
      case SK.TypeAliasDeclaration:
      case SK.TypeParameter:
      case SK.QualifiedName:
      case SK.BreakStatement:
      case SK.ContinueStatement:
      case SK.JsxClosingElement:
      case SK.JsxNamespacedName:
      case SK.IndexSignature:
      case SK.SemicolonClassElement:
      case SK.NamespaceExportDeclaration:
      case SK.MissingDeclaration:
        return;
      case SK.VariableStatement:
        visitDeclarationList((node as ts.VariableStatement).declarationList);
        return;
      case SK.VariableDeclarationList:
        visitDeclarationList(node as ts.VariableDeclarationList);
        return;
      case SK.FunctionDeclaration: {
        const f = node as ts.FunctionDeclaration;
        if (f.name) b.declare(f.name.text, "function", start(f.name), f.end);
        visitFunction(f);
        return;
      }
      case SK.FunctionExpression:
      case SK.ArrowFunction:
      case SK.MethodDeclaration:
      case SK.Constructor:
      case SK.GetAccessor:
      case SK.SetAccessor:
        visitFunction(node as ts.SignatureDeclaration);
        return;
      case SK.ClassDeclaration:
      case SK.ClassExpression:
        visitClass(node as ts.ClassLikeDeclaration);
        return;
      case SK.EnumDeclaration: {
        const e = node as ts.EnumDeclaration;
        b.declare(e.name.text, "enum", start(e.name), e.end);
        return;
      }
      case SK.ModuleDeclaration: {
        const m = node as ts.ModuleDeclaration;
        if (!ts.isIdentifier(m.name)) return; // `declare module "x"`: ambient, no value binding
        b.declare(m.name.text, "namespace", start(m.name), m.end);
        const body = m.body;
        if (body) {
          b.withScope("function", start(m), m.end, () => {
            if (ts.isModuleBlock(body)) visitStatements(body.statements);
            else visit(body);
          });
        }
        return;
      }
      case SK.ImportDeclaration: {
        const d = node as ts.ImportDeclaration;
        const clause = d.importClause;
        if (!clause || clause.isTypeOnly || !ts.isStringLiteral(d.moduleSpecifier)) return;
        const source = d.moduleSpecifier.text;
        const scope = b.moduleScope;
        if (clause.name)
          b.declare(clause.name.text, "import", start(clause.name), d.end, scope, {
            source,
            imported: "default",
          });
        const nb = clause.namedBindings;
        if (nb && ts.isNamespaceImport(nb)) {
          b.declare(nb.name.text, "import", start(nb.name), d.end, scope, { source, imported: "*" });
        } else if (nb) {
          for (const s of nb.elements) {
            if (s.isTypeOnly) continue;
            const imported = (s.propertyName ?? s.name).text;
            b.declare(s.name.text, "import", start(s.name), d.end, scope, { source, imported });
          }
        }
        return;
      }
      case SK.ImportEqualsDeclaration: {
        const d = node as ts.ImportEqualsDeclaration;
        if (d.isTypeOnly) return;
        const r = d.moduleReference;
        const source =
          ts.isExternalModuleReference(r) && ts.isStringLiteral(r.expression)
            ? r.expression.text
            : "<namespace>";
        b.declare(d.name.text, "import", start(d.name), d.end, b.current, { source, imported: "*" });
        return;
      }
      case SK.ExportDeclaration: {
        const d = node as ts.ExportDeclaration;
        if (d.isTypeOnly || d.moduleSpecifier || !d.exportClause || !ts.isNamedExports(d.exportClause))
          return;
        for (const s of d.exportClause.elements) {
          const local = s.propertyName ?? s.name;
          if (!s.isTypeOnly && ts.isIdentifier(local)) ref(local);
        }
        return;
      }
      case SK.ExportAssignment: {
        const d = node as ts.ExportAssignment;
        hint(d.expression, "default");
        visit(d.expression);
        return;
      }
      case SK.Block:
        b.withScope("block", start(node), node.end, () => ts.forEachChild(node, visit));
        return;
      case SK.SwitchStatement: {
        const sw = node as ts.SwitchStatement;
        visit(sw.expression);
        b.withScope("block", start(sw), sw.end, () => ts.forEachChild(sw.caseBlock, visit));
        return;
      }
      case SK.ForStatement:
      case SK.ForInStatement:
      case SK.ForOfStatement:
        b.loop(start(node), node.end);
        if (ts.isForOfStatement(node) && node.awaitModifier) b.suspension(start(node));
        b.withScope("block", start(node), node.end, () => ts.forEachChild(node, visit));
        return;
      case SK.WhileStatement:
      case SK.DoStatement:
        b.loop(start(node), node.end);
        ts.forEachChild(node, visit);
        return;
      case SK.CatchClause: {
        const c = node as ts.CatchClause;
        b.withScope("catch", start(c), c.end, (scope) => {
          const v = c.variableDeclaration;
          if (v) bindPattern(v.name, "catch", scope, v.end);
          visit(c.block);
        });
        return;
      }
      case SK.LabeledStatement:
        visit((node as ts.LabeledStatement).statement);
        return;
      case SK.WithStatement: {
        const w = node as ts.WithStatement;
        b.special("with", start(w), start(w) + 4);
        visit(w.expression);
        visit(w.statement);
        return;
      }
      case SK.AwaitExpression:
        b.suspension(start(node));
        visit((node as ts.AwaitExpression).expression);
        return;
      case SK.PropertyAccessExpression:
        visit((node as ts.PropertyAccessExpression).expression);
        return;
      case SK.PropertyAssignment: {
        const p = node as ts.PropertyAssignment;
        if (ts.isComputedPropertyName(p.name)) visit(p.name.expression);
        hint(p.initializer, propertyKey(p.name));
        visit(p.initializer);
        return;
      }
      case SK.ShorthandPropertyAssignment: {
        const p = node as ts.ShorthandPropertyAssignment;
        ref(p.name);
        if (p.objectAssignmentInitializer) visit(p.objectAssignmentInitializer);
        return;
      }
      case SK.BinaryExpression: {
        const e = node as ts.BinaryExpression;
        if (e.operatorToken.kind === SK.EqualsToken) {
          const l = unwrap(e.left);
          if (ts.isIdentifier(l)) hint(e.right, l.text);
          else if (ts.isPropertyAccessExpression(l) && ts.isIdentifier(l.name)) hint(e.right, l.name.text);
        }
        ts.forEachChild(node, visit);
        return;
      }
      case SK.CallExpression:
        // `import(x)` is an ImportExpression for acorn, not a call
        if ((node as ts.CallExpression).expression.kind === SK.ImportKeyword) ts.forEachChild(node, visit);
        else visitCall(node as ts.CallExpression);
        return;
      case SK.ExpressionWithTypeArguments:
        visit((node as ts.ExpressionWithTypeArguments).expression);
        return;
      case SK.HeritageClause: {
        const h = node as ts.HeritageClause;
        if (h.token === SK.ExtendsKeyword) for (const t of h.types) visit(t.expression);
        return;
      }
      case SK.JsxOpeningElement:
      case SK.JsxSelfClosingElement: {
        const j = node as ts.JsxOpeningElement | ts.JsxSelfClosingElement;
        visitJsxTag(j.tagName);
        visit(j.attributes);
        return;
      }
      case SK.JsxAttribute: {
        const a = node as ts.JsxAttribute;
        if (a.initializer) visit(a.initializer);
        return;
      }
      case SK.EnumMember:
      case SK.ExportSpecifier:
      case SK.ImportSpecifier:
        return;
      default:
        if (ts.isTypeNode(node)) return;
        ts.forEachChild(node, visit);
    }
  }

  visitStatements(sf.statements);

  // where generated module-level code goes
  let insertionPoint = sf.statements.length > 0 ? start(sf.statements[0]!) : 0;
  let seenImport = false;
  for (const s of sf.statements) {
    const isPrologue = !seenImport && ts.isExpressionStatement(s) && ts.isStringLiteral(s.expression);
    if (ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s)) seenImport = true;
    else if (!isPrologue) break;
    insertionPoint = s.end;
  }

  for (const d of (sf as unknown as ParseDiagnosticsHolder).parseDiagnostics ?? []) {
    b.parseError(d.start ?? 0, ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  }
  return b.finish(insertionPoint);
}

registerTypeScriptFrontend(parseWithTypeScript);
