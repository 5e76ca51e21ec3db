import { recordFields, sensitiveFields, writableFields } from "@veil/core";
import { describe, expect, it } from "vitest";
import { emptyRecordForm } from "../api/records.ts";
import { checkRecordForm, errorsFromApi, formFields, sections } from "./fields.ts";

describe("form fields from the classification", () => {
  it("has one control per writable field, with the classification's label, limit and required flag", () => {
    expect(formFields.map((f) => f.name)).toEqual([...writableFields]);
    for (const f of formFields) {
      expect(f.label).toBe(recordFields[f.name].label);
      expect(f.maxLength).toBe(recordFields[f.name].maxLength);
      expect(f.required).toBe(recordFields[f.name].required);
      expect(f.sensitive).toBe((sensitiveFields as readonly string[]).includes(f.name));
      expect(sections.map((s) => s.id)).toContain(f.section);
    }
  });

  it("uses date, email and tel inputs where the kind says so", () => {
    const type = (name: string) => formFields.find((f) => f.name === name)?.inputType;
    expect(type("dateOfBirth")).toBe("date");
    expect(type("email")).toBe("email");
    expect(type("phone")).toBe("tel");
    expect(formFields.find((f) => f.name === "category")?.control).toBe("select");
  });
});

describe("client-side checks", () => {
  it("names every missing required field", () => {
    const errors = checkRecordForm(emptyRecordForm());
    const required = writableFields.filter((f) => recordFields[f].required);
    expect(Object.keys(errors).sort()).toEqual([...required].sort());
    expect(errors.fullName).toBe("Full name is required");
  });

  it("counts a blank value as missing and checks lengths", () => {
    const values = {
      ...emptyRecordForm(),
      category: "general",
      fullName: "   ",
      dateOfBirth: "1980-01-01",
      notes: "x".repeat(recordFields.notes.maxLength + 1),
    };
    const errors = checkRecordForm(values);
    expect(errors.fullName).toMatch(/required/);
    expect(errors.notes).toMatch(/at most/);
    // The errors name fields, never values.
    expect(JSON.stringify(errors)).not.toContain("xxxx");
  });

  it("maps the API's field problems onto fields, others onto the form", () => {
    expect(
      errorsFromApi([
        { field: "email", message: "E-mail must be an e-mail address" },
        { field: "bogus", message: "is not a field of a record" },
      ]),
    ).toEqual({ email: "E-mail must be an e-mail address", _form: "is not a field of a record" });
  });
});
