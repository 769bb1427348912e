// GET /api/user: the operator an API token belongs to.

import { operator } from './auth.mjs';
import { data, router } from './http.mjs';

const userResource = (u) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  created_at: u.created_at,
  updated_at: u.updated_at,
});

export const handler = router([
  {
    path: '/api/user',
    pattern: /^\/api\/user$/,
    methods: {
      GET: async (event) => data(200, userResource((await operator(event)).user)),
    },
  },
]);
