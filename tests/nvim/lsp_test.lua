-- Headless Neovim test of `quarry lsp` through Neovim's built-in LSP client.
--
-- Opens the .kql file in $KQL_FILE, attaches $QUARRY_BIN lsp, then checks the published
-- diagnostics, a hover on `where`, and that an edit sent with incremental sync clears the
-- diagnostics. Exits with status 0 on success and 1 on the first failed check.

local TIMEOUT_MS = 10000

local function log(message)
  io.stdout:write(message .. "\n")
end

local function fail(message)
  log("FAIL: " .. message)
  vim.cmd("cquit 1")
end

local quarry = os.getenv("QUARRY_BIN")
local file = os.getenv("KQL_FILE")
if not quarry or not file then
  fail("QUARRY_BIN and KQL_FILE must be set")
end

vim.cmd("edit " .. vim.fn.fnameescape(file))
local bufnr = vim.api.nvim_get_current_buf()

local config = {
  name = "quarry",
  cmd = { quarry, "lsp" },
  root_dir = vim.fn.fnamemodify(file, ":p:h"),
}
local client_id
if vim.lsp.start then
  -- Neovim 0.8 and later.
  client_id = vim.lsp.start(config)
else
  client_id = vim.lsp.start_client(config)
  vim.lsp.buf_attach_client(bufnr, client_id)
end
if not client_id then
  fail("the LSP client did not start")
end

-- Diagnostics: the stray `)` on line 3 (0-based line 2, column 19).
local published = vim.wait(TIMEOUT_MS, function()
  return #vim.diagnostic.get(bufnr) > 0
end, 50)
if not published then
  fail("no diagnostics within " .. TIMEOUT_MS .. " ms")
end
local diagnostics = vim.diagnostic.get(bufnr)
if #diagnostics ~= 1 then
  fail("expected 1 diagnostic, got " .. #diagnostics .. ": " .. vim.inspect(diagnostics))
end
local diagnostic = diagnostics[1]
if diagnostic.lnum ~= 2 or diagnostic.col ~= 19 then
  fail("diagnostic at " .. diagnostic.lnum .. ":" .. diagnostic.col .. ", expected 2:19")
end
if diagnostic.severity ~= vim.diagnostic.severity.ERROR then
  fail("diagnostic severity " .. tostring(diagnostic.severity) .. ", expected ERROR")
end
log("ok diagnostics: " .. diagnostic.message)

-- Hover on `where`.
local params = {
  textDocument = { uri = vim.uri_from_bufnr(bufnr) },
  position = { line = 2, character = 4 },
}
local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", params, TIMEOUT_MS)
local response = responses and responses[client_id]
if not response or response.err or not response.result then
  fail("hover failed: " .. vim.inspect(responses))
end
local contents = response.result.contents
if contents.kind ~= "markdown" or not contents.value:find("T | where", 1, true) then
  fail("unexpected hover contents: " .. vim.inspect(contents))
end
log("ok hover: " .. vim.split(contents.value, "\n")[2])

-- Delete the stray ") " through the buffer; Neovim sends it as an incremental change.
vim.api.nvim_buf_set_text(bufnr, 2, 19, 2, 21, {})
local cleared = vim.wait(TIMEOUT_MS, function()
  return #vim.diagnostic.get(bufnr) == 0
end, 50)
if not cleared then
  fail("diagnostics not cleared after the fix: " .. vim.inspect(vim.diagnostic.get(bufnr)))
end
log("ok diagnostics cleared after an incremental edit")

vim.lsp.stop_client(client_id)
vim.cmd("qall!")
