-- Lists of one type under one parent (the computes of a workspace) read only the index to
-- filter and to skip ($skip), and the table only for the rows of the page.
CREATE INDEX resources_parent_type ON resources (parent_key, type_key, key);
